//! Listeners the lab's Kong would not accept: a scenario's own Gateway of
//! Kong's class with a listener on a port or protocol Kong has no listen for
//! (listener-needs-kong-listen), found before anything is applied.

use std::path::PathBuf;

use crate::kong::{CLASS_NAME, LAB_LISTENS};
use crate::manifest::{Manifest, Object};

/// One such listener, where it is written.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UnservedListener {
    /// `Gateway ns/name`, as the manifest names it.
    pub gateway: String,
    pub file: PathBuf,
    pub line: u64,
    pub listener: String,
    pub protocol: String,
    pub port: u16,
}

impl std::fmt::Display for UnservedListener {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "{} ({}:{}) listener {} is {} on port {}, which the lab's Kong does not listen on: KIC leaves it Accepted False (PortUnavailable), not programmed [listener-needs-kong-listen]; on the lab use HTTP on 80 or HTTPS on 443",
            self.gateway,
            self.file.display(),
            self.line,
            self.listener,
            self.protocol,
            self.port
        )
    }
}

/// Every listener of a Gateway of Kong's class that is not one of the lab
/// Kong's listens.
pub fn unserved_listeners<'a>(
    objects: impl Iterator<Item = &'a Manifest>,
) -> Vec<UnservedListener> {
    let mut out = Vec::new();
    for m in objects {
        let Object::Gateway(gw) = &m.object else {
            continue;
        };
        if gw.spec.gateway_class_name != CLASS_NAME {
            continue;
        }
        for l in &gw.spec.listeners {
            if LAB_LISTENS.contains(&(l.value.protocol.as_str(), l.value.port)) {
                continue;
            }
            out.push(UnservedListener {
                gateway: m.display_name(),
                file: m.file.clone(),
                line: m.file_line(l.referenced.line()),
                listener: l.value.name.clone(),
                protocol: l.value.protocol.clone(),
                port: l.value.port,
            });
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn listeners_off_kongs_listens_are_named_with_their_line() {
        let yaml = "apiVersion: gateway.networking.k8s.io/v1\nkind: Gateway\nmetadata: {name: g, namespace: app}\nspec:\n  gatewayClassName: kong\n  listeners:\n  - {name: ok, protocol: HTTP, port: 80}\n  - {name: alt, protocol: HTTP, port: 8080}\n  - {name: tls, protocol: HTTPS, port: 80, tls: {certificateRefs: [{name: c}]}}\n---\napiVersion: gateway.networking.k8s.io/v1\nkind: Gateway\nmetadata: {name: other, namespace: app}\nspec:\n  gatewayClassName: not-kong\n  listeners:\n  - {name: alt, protocol: HTTP, port: 8080}\n";
        let objects = crate::manifest::parse_text(std::path::Path::new("gw.yaml"), yaml).unwrap();
        let found = unserved_listeners(objects.iter());
        let named: Vec<(&str, u64)> = found
            .iter()
            .map(|u| (u.listener.as_str(), u.line))
            .collect();
        assert_eq!(named, [("alt", 8), ("tls", 9)]);
        assert!(
            found[0].to_string().starts_with(
                "Gateway/g in namespace app (gw.yaml:8) listener alt is HTTP on port 8080"
            ),
            "{}",
            found[0]
        );
    }
}
