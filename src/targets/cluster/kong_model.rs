//! The cluster's Kong as gwlab models it: which Kong the cluster runs (read
//! from its proxy's image), and a model of what the run applied, routed as
//! that Kong, so that a probe whose answer a known deviation explains says
//! which one.

use k8s_openapi::api::apps::v1::Deployment;
use kube::Client;
use kube::api::{Api, ListParams};

use crate::implementations::Implementation;
use crate::kong::{Version, image_version};
use crate::manifest::Manifest;
use crate::model::GatewayRef;
use crate::model::compile::compile_as;
use crate::model::lab_gateway;
use crate::model::request::RequestHead;
use crate::model::world::{EchoService, ObjKey, World};
use crate::targets::TargetError;

/// The Kong the cluster runs, as the implementation gwlab models it: the
/// version of the Kong proxy containers of every Deployment; `None` when
/// there is none, when their versions differ, or when gwlab has no model of
/// that version (the tag is not a version, or below KIC 3's minimum).
pub(crate) async fn cluster_kong(client: &Client) -> Result<Option<Implementation>, TargetError> {
    let api: Api<Deployment> = Api::all(client.clone());
    let list = api
        .list(&ListParams::default())
        .await
        .map_err(TargetError::kube(
            "cannot list Deployments to read Kong's version",
        ))?;
    let mut versions: Vec<Version> = Vec::new();
    for d in &list.items {
        let workload = crate::doctor::facts::Workload::Deployment(Box::new(d.clone()));
        for proxy in workload.kong_proxies() {
            // A tag that is not a version (`latest`) leaves Kong unknown.
            let Some(v) = image_version(&proxy.image).and_then(Version::parse) else {
                return Ok(None);
            };
            if !versions.contains(&v) {
                versions.push(v);
            }
        }
    }
    Ok(match versions[..] {
        [v] => Implementation::for_kong(v),
        _ => None,
    })
}

/// What the run applied, as the model holds it, and the Kong it is routed as.
pub(crate) struct KongModel {
    world: World,
    implementation: Implementation,
}

impl KongModel {
    pub(crate) fn new(implementation: Implementation) -> Self {
        let mut world = World::default();
        for m in lab_gateway::objects() {
            world.apply(m);
        }
        world.next_batch();
        KongModel {
            world,
            implementation,
        }
    }

    pub(crate) fn implementation(&self) -> Implementation {
        self.implementation
    }

    pub(crate) fn next_batch(&mut self) {
        self.world.next_batch();
    }

    pub(crate) fn apply(&mut self, object: &Manifest) {
        self.world.apply(object.clone());
    }

    pub(crate) fn delete(&mut self, object: &Manifest) {
        self.world.delete(&ObjKey::new(
            &object.kind,
            object.namespace.as_deref().unwrap_or(""),
            &object.name,
        ));
    }

    pub(crate) fn add_echo(&mut self, namespace: &str, name: &str, port: u16) {
        self.world.add_echo(EchoService {
            namespace: namespace.into(),
            name: name.into(),
            port,
        });
    }

    /// How the modelled Kong routes the request.
    pub(crate) fn explain(
        &self,
        gateway: &GatewayRef,
        port: u16,
        request: RequestHead,
    ) -> Option<crate::explain::Explanation> {
        let compiled = compile_as(&self.world, self.implementation);
        crate::explain::explain(&compiled, gateway, port, request).ok()
    }
}
