//! Objects from YAML for the model's tests.

use std::path::Path;

use super::world::World;
use crate::manifest::parse_text;

/// The namespace of objects whose YAML names none.
pub(crate) const NS: &str = "app";

/// Applies every object of `yaml`, in namespace [`NS`] unless it names one.
pub fn apply(w: &mut World, yaml: &str) {
    for mut m in parse_text(Path::new("t.yaml"), yaml).unwrap_or_else(|e| panic!("{e:?}")) {
        if m.namespace.is_none() && !m.is_cluster_scoped() {
            m.namespace = Some(NS.into());
        }
        w.apply(m);
    }
}

/// A world holding only the objects of `yaml`.
pub(crate) fn world_of(yaml: &str) -> World {
    let mut w = World::default();
    apply(&mut w, yaml);
    w
}

/// One value (a route, a match, a filter...) read from YAML.
pub fn from_yaml<T: serde::de::DeserializeOwned>(yaml: &str) -> T {
    serde_saphyr::from_str(yaml).unwrap_or_else(|e| panic!("{e}"))
}
