//! The HTTPRoutes `gwlab migrate` writes, field order as people write them.

use serde::Serialize;

#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Route {
    pub api_version: &'static str,
    pub kind: &'static str,
    pub metadata: Meta,
    pub spec: Spec,
}

#[derive(Debug, Clone, Serialize)]
pub struct Meta {
    pub name: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub namespace: Option<String>,
}

#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Spec {
    pub parent_refs: Vec<ParentRef>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub hostnames: Vec<String>,
    pub rules: Vec<Rule>,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ParentRef {
    pub name: String,
    pub namespace: String,
    pub section_name: String,
}

#[derive(Debug, Clone, Default, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Rule {
    pub matches: Vec<Match>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub filters: Vec<Filter>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub backend_refs: Vec<BackendRef>,
}

#[derive(Debug, Clone, Serialize)]
pub struct Match {
    pub path: PathMatch,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub headers: Vec<NameValue>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub method: Option<String>,
}

#[derive(Debug, Clone, Serialize)]
pub struct PathMatch {
    #[serde(rename = "type")]
    pub type_: &'static str,
    pub value: String,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct NameValue {
    pub name: String,
    pub value: String,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct HeaderOps {
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub set: Vec<NameValue>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub add: Vec<NameValue>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub remove: Vec<String>,
}

impl HeaderOps {
    pub fn is_empty(&self) -> bool {
        self.set.is_empty() && self.add.is_empty() && self.remove.is_empty()
    }
}

#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct PathModifier {
    #[serde(rename = "type")]
    pub type_: &'static str,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub replace_full_path: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub replace_prefix_match: Option<String>,
}

impl PathModifier {
    pub fn full(path: &str) -> Self {
        PathModifier {
            type_: "ReplaceFullPath",
            replace_full_path: Some(path.into()),
            replace_prefix_match: None,
        }
    }
    pub fn prefix(path: &str) -> Self {
        PathModifier {
            type_: "ReplacePrefixMatch",
            replace_full_path: None,
            replace_prefix_match: Some(path.into()),
        }
    }
}

#[derive(Debug, Clone, Default, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Redirect {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub scheme: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub hostname: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub port: Option<u16>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub path: Option<PathModifier>,
    pub status_code: u16,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Rewrite {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub hostname: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub path: Option<PathModifier>,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Filter {
    #[serde(rename = "type")]
    pub type_: &'static str,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub request_header_modifier: Option<HeaderOps>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub response_header_modifier: Option<HeaderOps>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub request_redirect: Option<Redirect>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub url_rewrite: Option<Rewrite>,
}

impl Filter {
    fn empty(type_: &'static str) -> Self {
        Filter {
            type_,
            request_header_modifier: None,
            response_header_modifier: None,
            request_redirect: None,
            url_rewrite: None,
        }
    }
    pub(crate) fn request_headers(ops: HeaderOps) -> Self {
        Filter {
            request_header_modifier: Some(ops),
            ..Filter::empty("RequestHeaderModifier")
        }
    }
    pub fn response_headers(ops: HeaderOps) -> Self {
        Filter {
            response_header_modifier: Some(ops),
            ..Filter::empty("ResponseHeaderModifier")
        }
    }
    pub fn redirect(r: Redirect) -> Self {
        Filter {
            request_redirect: Some(r),
            ..Filter::empty("RequestRedirect")
        }
    }
    pub(crate) fn rewrite(r: Rewrite) -> Self {
        Filter {
            url_rewrite: Some(r),
            ..Filter::empty("URLRewrite")
        }
    }
    /// Whether the filter replaces the matched prefix (a rewrite's or a
    /// redirect's path), which limits its rule to one PathPrefix match.
    pub(crate) fn replaces_prefix(&self) -> bool {
        let rewrite = self.url_rewrite.as_ref().and_then(|r| r.path.as_ref());
        let redirect = self.request_redirect.as_ref().and_then(|r| r.path.as_ref());
        rewrite
            .into_iter()
            .chain(redirect)
            .any(|p| p.replace_prefix_match.is_some())
    }
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct BackendRef {
    pub name: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub namespace: Option<String>,
    pub port: u16,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub weight: Option<u32>,
}

/// Routes as one YAML stream.
pub fn to_yaml(routes: &[Route]) -> String {
    let docs: Vec<String> = routes
        .iter()
        .map(|r| serde_saphyr::to_string(r).expect("routes serialise"))
        .collect();
    docs.join("---\n")
}
