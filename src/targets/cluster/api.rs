//! The cluster target's API calls: kinds resolved from gwlab's table or by
//! discovery, objects applied only when they are this run's, and deletions
//! limited to what this run created, by UID.

use kube::api::{
    Api, ApiResource, DeleteParams, DynamicObject, GroupVersionKind, Patch, Preconditions,
};
use kube::runtime::wait::{await_condition, conditions};

use super::{ClusterTarget, Deleting};
use crate::kube_api::is_not_found;
use crate::lab::apply::identity;
use crate::ownership::{Created, describe_owner};
use crate::targets::{Awaiting, Leftover, TargetError, is_route_kind};

/// Server-side apply as gwlab's field manager, never forcing: an object the
/// run owns has no other manager of its spec.
use crate::kube_api::apply_params as params;
use crate::kube_api::{TRANSIENT_BUDGET, retrying};

impl ClusterTarget {
    /// The API resource of a kind: gwlab's table, else the API server's discovery.
    pub(super) async fn resource(
        &self,
        api_version: &str,
        kind: &str,
    ) -> Result<(ApiResource, bool), TargetError> {
        if let Some(r) = crate::kinds::resource(api_version, kind) {
            return Ok(r);
        }
        let key = (api_version.to_string(), kind.to_string());
        if let Some(r) = self.resources.lock().expect("resource cache").get(&key) {
            return Ok(r.clone());
        }
        let (group, version) = api_version.split_once('/').unwrap_or(("", api_version));
        let gvk = GroupVersionKind::gvk(group, version, kind);
        let (ar, caps) = retrying(TRANSIENT_BUDGET, || {
            kube::discovery::pinned_kind(&self.client, &gvk)
        })
        .await
        .map_err(|source| TargetError::NotServed {
            api_version: api_version.into(),
            kind: kind.into(),
            source: Box::new(source),
        })?;
        let namespaced = caps.scope == kube::discovery::Scope::Namespaced;
        self.resources
            .lock()
            .expect("resource cache")
            .insert(key, (ar.clone(), namespaced));
        Ok((ar, namespaced))
    }

    pub(super) fn api(
        &self,
        ar: &ApiResource,
        namespaced: bool,
        namespace: Option<&str>,
    ) -> Api<DynamicObject> {
        crate::kube_api::dynamic_api(&self.client, ar, namespaced, namespace)
    }

    /// The UID this run created an object under, if it did.
    fn created_uid(
        &self,
        api_version: &str,
        kind: &str,
        ns: Option<&str>,
        name: &str,
    ) -> Option<String> {
        self.created
            .lock()
            .expect("created objects")
            .iter()
            .find(|c| c.same_object(api_version, kind, ns, name))
            .map(|c| c.uid.clone())
    }

    /// Refuses an object that exists and was not created by this run.
    pub(super) async fn check_ours(&self, obj: &serde_json::Value) -> Result<(), TargetError> {
        let id = identity(obj);
        let (ar, namespaced) = self.resource(&id.api_version, &id.kind).await?;
        let api = self.api(&ar, namespaced, id.namespace.as_deref());
        let what = crate::lab::apply::describe(obj);
        let Some(existing) = retrying(TRANSIENT_BUDGET, || api.get_opt(&id.name))
            .await
            .map_err(TargetError::kube(format!("cannot read {what}")))?
        else {
            return Ok(());
        };
        let ours = self
            .created_uid(&id.api_version, &id.kind, id.namespace.as_deref(), &id.name)
            .is_some_and(|uid| existing.metadata.uid.as_deref() == Some(uid.as_str()));
        if ours {
            return Ok(());
        }
        match crate::ownership::earlier_run(&existing) {
            Some(run) => Err(TargetError::EarlierRun { object: what, run }),
            None => Err(TargetError::NotOurs {
                object: what,
                owner: describe_owner(&existing),
            }),
        }
    }

    /// Applies an object the run owns or creates, recording what it creates.
    pub(super) async fn apply_value(&self, obj: serde_json::Value) -> Result<(), TargetError> {
        self.check_ours(&obj).await?;
        let id = identity(&obj);
        let (ar, namespaced) = self.resource(&id.api_version, &id.kind).await?;
        let api = self.api(&ar, namespaced, id.namespace.as_deref());
        let (pp, patch) = (params(), Patch::Apply(&obj));
        let applied = retrying(TRANSIENT_BUDGET, || api.patch(&id.name, &pp, &patch))
            .await
            .map_err(TargetError::kube(format!(
                "cannot apply {}",
                crate::lab::apply::describe(&obj)
            )))?;
        let known = self
            .created_uid(&id.api_version, &id.kind, id.namespace.as_deref(), &id.name)
            .is_some();
        if !known && let Some(c) = Created::of(&id.api_version, &id.kind, &applied) {
            self.record(c);
        }
        Ok(())
    }

    fn record(&self, c: Created) {
        if let Some(log) = &self.record_to {
            log.add(&c);
        }
        self.created.lock().expect("created objects").push(c);
    }

    /// Deletes an object this run created (by UID: a namesake someone else
    /// made in the meantime is left alone) and, with `wait`, returns once it is
    /// gone. Objects the run did not create are not touched.
    pub(super) async fn delete_created(
        &self,
        api_version: &str,
        kind: &str,
        namespace: Option<&str>,
        name: &str,
        wait: bool,
    ) -> Result<(), TargetError> {
        let Some(uid) = self.created_uid(api_version, kind, namespace, name) else {
            return Ok(());
        };
        let (ar, namespaced) = self.resource(api_version, kind).await?;
        let api = self.api(&ar, namespaced, namespace);
        let what = format!(
            "{kind} {}{name}",
            namespace.map(|n| format!("{n}/")).unwrap_or_default()
        );
        let dp = DeleteParams {
            preconditions: Some(Preconditions {
                uid: Some(uid.clone()),
                resource_version: None,
            }),
            ..DeleteParams::background()
        };
        match retrying(TRANSIENT_BUDGET, || api.delete(name, &dp)).await {
            Ok(_) => {}
            // Gone already, or replaced by someone else's object of the same name.
            Err(e)
                if is_not_found(&e)
                    || crate::kube_api::fault(&e) == crate::kube_api::Fault::Conflict =>
            {
                self.forget(&uid);
                return Ok(());
            }
            Err(e) => return Err(TargetError::kube(format!("cannot delete {what}"))(e)),
        }
        if wait {
            self.await_gone(api, name, &uid, &what).await?;
            self.forget(&uid);
        } else {
            self.deleting.lock().expect("deletions").push(Deleting {
                api,
                name: name.to_string(),
                uid,
                what,
                kind: kind.to_string(),
            });
        }
        Ok(())
    }

    /// Waits, all together, for the deletions issued without waiting (all, or
    /// those of routes); forgets what is gone (for a namespace: everything
    /// that was in it) and returns what is still there after `timeout`.
    pub(super) async fn await_deletions(
        &self,
        which: Awaiting,
        timeout: std::time::Duration,
    ) -> Vec<String> {
        let pending = self.take_deleting(|d| match which {
            Awaiting::Everything => true,
            Awaiting::Objects => d.kind != "Namespace",
            Awaiting::Routes => is_route_kind(&d.kind),
        });
        let waits = pending.into_iter().map(|d| async move {
            let gone = tokio::time::timeout(
                timeout,
                await_condition(d.api.clone(), &d.name, conditions::is_deleted(&d.uid)),
            )
            .await;
            (d, matches!(gone, Ok(Ok(_))))
        });
        let mut left = Vec::new();
        for (d, gone) in futures_util::future::join_all(waits).await {
            if gone {
                self.forget(&d.uid);
                if d.kind == "Namespace" {
                    self.forget_namespace(&d.name);
                }
            } else {
                left.push(d.what.clone());
                self.deleting.lock().expect("deletions").push(d);
            }
        }
        left
    }

    /// The namespaces whose deletion was issued and that are still there,
    /// looked at once: what is in them of this run is gone already.
    pub(super) async fn namespaces_not_gone(&self) -> Vec<String> {
        let namespaces = self.take_deleting(|d| d.kind == "Namespace");
        let mut left = Vec::new();
        for d in namespaces {
            let gone = match retrying(TRANSIENT_BUDGET, || d.api.get_opt(&d.name)).await {
                Ok(None) => true,
                Ok(Some(o)) => o.metadata.uid.as_deref() != Some(d.uid.as_str()),
                Err(_) => false,
            };
            if gone {
                self.forget(&d.uid);
                self.forget_namespace(&d.name);
            } else {
                left.push(d.name.clone());
                self.deleting.lock().expect("deletions").push(d);
            }
        }
        left
    }

    /// Deletes everything this target created, without waiting: its objects
    /// one by one (newest first, routes before the rest), then the
    /// namespaces it created (background propagation).
    pub(super) async fn delete_all_created(&self) -> Vec<Leftover> {
        let created: Vec<Created> = self.created.lock().expect("created objects").clone();
        let namespaces: Vec<&Created> = created.iter().filter(|c| c.kind == "Namespace").collect();
        let mut left = Vec::new();
        // Every object one by one, routes first (they must stop routing
        // before another scenario with the same hostnames starts), then the
        // namespaces: the run then waits for its objects to be gone, not for
        // the namespace controller, which takes seconds to come to them.
        let (routes, others): (Vec<&Created>, Vec<&Created>) = created
            .iter()
            .rev()
            .filter(|c| c.kind != "Namespace")
            .partition(|c| is_route_kind(&c.kind));
        let objects = routes.into_iter().chain(others);
        // Once the API server has not answered a deletion through its
        // retries, the rest are listed, not each waited for in turn.
        let mut unreachable = false;
        for c in objects.chain(namespaces.iter().rev().copied()) {
            let deleted = if unreachable {
                Err(TargetError::NotTried)
            } else {
                self.delete_created(
                    &c.api_version,
                    &c.kind,
                    c.namespace.as_deref(),
                    &c.name,
                    false,
                )
                .await
            };
            if let Err(source) = deleted {
                unreachable |= source.is_unreachable();
                let is_namespace = c.kind == "Namespace";
                left.push(Leftover {
                    what: match &c.namespace {
                        Some(ns) => format!("{} {ns}/{}", c.kind, c.name),
                        None => format!("{} {}", c.kind, c.name),
                    },
                    namespace: is_namespace.then(|| c.name.clone()),
                    source,
                });
            }
        }
        left
    }

    /// Takes the issued deletions that `chosen` picks out of the list of
    /// those going on; the caller puts back what is not gone.
    fn take_deleting(&self, chosen: impl Fn(&Deleting) -> bool) -> Vec<Deleting> {
        let mut all = self.deleting.lock().expect("deletions");
        let (taken, rest) = std::mem::take(&mut *all).into_iter().partition(chosen);
        *all = rest;
        taken
    }

    /// Forgets every object recorded in a namespace that is gone.
    fn forget_namespace(&self, namespace: &str) {
        let uids: Vec<String> = self
            .created
            .lock()
            .expect("created objects")
            .iter()
            .filter(|c| c.namespace.as_deref() == Some(namespace))
            .map(|c| c.uid.clone())
            .collect();
        for uid in uids {
            self.forget(&uid);
        }
    }

    fn forget(&self, uid: &str) {
        self.created
            .lock()
            .expect("created objects")
            .retain(|c| c.uid != uid);
        if let Some(log) = &self.record_to {
            log.remove(uid);
        }
    }

    pub(super) async fn await_gone(
        &self,
        api: Api<DynamicObject>,
        name: &str,
        uid: &str,
        what: &str,
    ) -> Result<(), TargetError> {
        // A watch cut by the API server (a restart, a reset) is watched
        // again while time is left.
        let watch = || await_condition(api.clone(), name, conditions::is_deleted(uid));
        match crate::kube_api::watching_again(self.wait_timeout, watch).await {
            Some(Ok(_)) => Ok(()),
            Some(Err(source)) => Err(TargetError::Watch {
                what: format!("the deletion of {what}"),
                source: Box::new(source),
            }),
            None => Err(TargetError::DeleteTimeout {
                what: what.to_string(),
                secs: self.wait_timeout.as_secs(),
            }),
        }
    }
}
