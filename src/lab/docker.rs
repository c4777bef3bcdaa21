//! The Docker engine, through bollard: labelled networks and containers of a
//! lab, and removal of exactly what gwlab labelled, nothing else.

use std::collections::HashMap;
use std::net::Ipv4Addr;

use bollard::Docker;
use bollard::models::{NetworkCreateRequest, NetworkInspect};
use bollard::query_parameters::{
    ListContainersOptionsBuilder, ListNetworksOptionsBuilder, RemoveContainerOptionsBuilder,
};

use super::metallb::Subnet;
use super::{LAB_LABEL, LabError, MANAGED_BY};

/// Connects to the engine `DOCKER_HOST` names (else the local socket), with
/// the API version negotiated, so older engines work too.
pub async fn connect() -> Result<Docker, LabError> {
    let place =
        std::env::var("DOCKER_HOST").unwrap_or_else(|_| "unix:///var/run/docker.sock".into());
    let docker = Docker::connect_with_local_defaults().map_err(LabError::docker(format!("cannot connect to the Docker engine at {place} (is Docker running? gwlab reads DOCKER_HOST, not Docker contexts)")))?;
    let docker = docker
        .negotiate_version()
        .await
        .map_err(LabError::docker(format!(
            "the Docker engine at {place} does not answer (is Docker running?)"
        )))?;
    Ok(docker)
}

/// The labels every object of a lab carries.
pub fn labels(lab: &str) -> HashMap<String, String> {
    HashMap::from([
        (MANAGED_BY.0.to_string(), MANAGED_BY.1.to_string()),
        (LAB_LABEL.to_string(), lab.to_string()),
    ])
}

fn label_filter(lab: &str) -> HashMap<String, Vec<String>> {
    HashMap::from([(
        "label".to_string(),
        vec![
            format!("{}={}", MANAGED_BY.0, MANAGED_BY.1),
            format!("{LAB_LABEL}={lab}"),
        ],
    )])
}

/// What the MetalLB pool needs to know of a Docker network.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NetworkInfo {
    pub name: String,
    pub subnet: Subnet,
    pub gateway: Option<Ipv4Addr>,
    /// Addresses of the containers attached to it.
    pub in_use: Vec<Ipv4Addr>,
    pub labels: HashMap<String, String>,
}

fn info(n: NetworkInspect) -> Result<NetworkInfo, LabError> {
    let name = n.name.clone().unwrap_or_default();
    let config = n.ipam.and_then(|i| i.config).unwrap_or_default();
    let v4 = config
        .iter()
        .find(|c| {
            c.subnet
                .as_deref()
                .is_some_and(|s| s.parse::<Subnet>().is_ok())
        })
        .ok_or_else(|| LabError::Refused(format!("Docker network {name} has no IPv4 subnet")))?;
    let subnet: Subnet = v4.subnet.as_deref().unwrap_or_default().parse().map_err(
        |e: super::metallb::NotCidr| LabError::Refused(format!("Docker network {name}: {e}")),
    )?;
    let in_use = n
        .containers
        .unwrap_or_default()
        .values()
        .filter_map(|c| c.ipv4_address.as_deref())
        .filter_map(|a| a.split('/').next()?.parse().ok())
        .collect();
    Ok(NetworkInfo {
        name,
        subnet,
        gateway: v4.gateway.as_deref().and_then(|g| g.parse().ok()),
        in_use,
        labels: n.labels.unwrap_or_default(),
    })
}

fn not_found(e: &bollard::errors::Error) -> bool {
    matches!(
        e,
        bollard::errors::Error::DockerResponseServerError {
            status_code: 404,
            ..
        }
    )
}

pub async fn network(docker: &Docker, name: &str) -> Result<Option<NetworkInfo>, LabError> {
    match docker.inspect_network(name, None).await {
        Ok(n) => info(n).map(Some),
        Err(e) if not_found(&e) => Ok(None),
        Err(e) => Err(LabError::docker(format!("cannot inspect network {name}"))(
            e,
        )),
    }
}

/// The lab's network: reused when gwlab made it for this lab, created when
/// missing, and an error when someone else's network has that name.
pub async fn ensure_network(
    docker: &Docker,
    name: &str,
    lab: &str,
) -> Result<NetworkInfo, LabError> {
    if let Some(n) = network(docker, name).await? {
        let ours = labels(lab).iter().all(|(k, v)| n.labels.get(k) == Some(v));
        if !ours {
            return Err(LabError::Refused(format!(
                "a Docker network named {name} exists and was not created by gwlab for lab {lab}; remove it yourself, or choose another lab with --name"
            )));
        }
        return Ok(n);
    }
    let req = NetworkCreateRequest {
        name: name.into(),
        driver: Some("bridge".into()),
        labels: Some(labels(lab)),
        ..Default::default()
    };
    docker
        .create_network(req)
        .await
        .map_err(LabError::docker(format!("cannot create network {name}")))?;
    network(docker, name)
        .await?
        .ok_or_else(|| LabError::Refused(format!("network {name} vanished after creation")))
}

pub(crate) async fn image_present(docker: &Docker, image: &str) -> Result<bool, LabError> {
    match docker.inspect_image(image).await {
        Ok(_) => Ok(true),
        Err(e) if not_found(&e) => Ok(false),
        Err(e) => Err(LabError::docker(format!("cannot inspect image {image}"))(e)),
    }
}

/// Removes the containers, then the networks, that carry this lab's labels.
/// Returns what was removed. Objects without both labels are never touched.
pub async fn remove_lab(docker: &Docker, lab: &str) -> Result<Vec<String>, LabError> {
    let mut removed = Vec::new();
    let filters = label_filter(lab);
    let containers = docker
        .list_containers(Some(
            ListContainersOptionsBuilder::default()
                .all(true)
                .filters(&filters)
                .build(),
        ))
        .await
        .map_err(LabError::docker("cannot list containers"))?;
    for c in containers {
        let id = c.id.unwrap_or_default();
        let name = c
            .names
            .and_then(|n| n.first().cloned())
            .unwrap_or_else(|| id.clone());
        match docker
            .remove_container(
                &id,
                Some(
                    RemoveContainerOptionsBuilder::default()
                        .force(true)
                        .v(true)
                        .build(),
                ),
            )
            .await
        {
            Ok(()) => removed.push(format!("container {}", name.trim_start_matches('/'))),
            Err(e) if not_found(&e) => {}
            Err(e) => {
                return Err(LabError::docker(format!("cannot remove container {name}"))(
                    e,
                ));
            }
        }
    }
    let networks = docker
        .list_networks(Some(
            ListNetworksOptionsBuilder::default()
                .filters(&filters)
                .build(),
        ))
        .await
        .map_err(LabError::docker("cannot list networks"))?;
    for n in networks {
        let name = n.name.unwrap_or_default();
        match docker.remove_network(&name).await {
            Ok(()) => removed.push(format!("network {name}")),
            Err(e) if not_found(&e) => {}
            Err(e) => {
                return Err(LabError::docker(format!(
                    "cannot remove network {name} (is something else attached to it?)"
                ))(e));
            }
        }
    }
    Ok(removed)
}

/// `port`, or a free one when it is 0.
pub(crate) fn port_or_free(port: u16) -> Result<u16, LabError> {
    if port == 0 { free_port() } else { Ok(port) }
}

/// A free TCP port on 127.0.0.1, for publishing.
pub fn free_port() -> Result<u16, LabError> {
    let l = std::net::TcpListener::bind(("127.0.0.1", 0))
        .map_err(LabError::io("no free port on 127.0.0.1"))?;
    Ok(l.local_addr()
        .map_err(LabError::io("no free port on 127.0.0.1"))?
        .port())
}

/// A container to run: what the k3s provider (and the tests) need of Docker.
#[derive(Debug, Clone, Default)]
pub struct ContainerSpec {
    pub name: String,
    pub image: String,
    pub cmd: Vec<String>,
    pub env: Vec<String>,
    pub network: String,
    pub privileged: bool,
    pub tmpfs: Vec<String>,
    /// `host:container` bind mounts.
    pub binds: Vec<String>,
    /// (container port, host port on 127.0.0.1); TCP.
    pub ports: Vec<(u16, u16)>,
}

/// The state of a lab container gwlab finds: running or not, and its published ports.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ContainerState {
    pub running: bool,
    /// The image the container was created from, as it was named.
    pub image: String,
    /// container port → host port.
    pub ports: Vec<(u16, u16)>,
    pub labels: HashMap<String, String>,
}

pub async fn container(docker: &Docker, name: &str) -> Result<Option<ContainerState>, LabError> {
    match docker.inspect_container(name, None).await {
        Ok(c) => {
            let running = c.state.as_ref().and_then(|s| s.running).unwrap_or(false);
            let bindings = c
                .host_config
                .as_ref()
                .and_then(|h| h.port_bindings.clone())
                .unwrap_or_default();
            let mut ports: Vec<(u16, u16)> = bindings
                .iter()
                .filter_map(|(k, v)| {
                    let cport = k.split('/').next()?.parse().ok()?;
                    let hport = v.as_ref()?.first()?.host_port.as_ref()?.parse().ok()?;
                    Some((cport, hport))
                })
                .collect();
            ports.sort_unstable();
            let image = c
                .config
                .as_ref()
                .and_then(|c| c.image.clone())
                .unwrap_or_default();
            let labels = c.config.and_then(|c| c.labels).unwrap_or_default();
            Ok(Some(ContainerState {
                running,
                image,
                ports,
                labels,
            }))
        }
        Err(e) if not_found(&e) => Ok(None),
        Err(e) => Err(LabError::docker(format!("cannot inspect container {name}"))(e)),
    }
}

/// Creates and starts a labelled container. On a failed start the container is
/// removed again, so nothing half-made is left.
pub async fn run(docker: &Docker, spec: &ContainerSpec, lab: &str) -> Result<(), LabError> {
    use bollard::models::{ContainerCreateBody, HostConfig, PortBinding};
    use bollard::query_parameters::CreateContainerOptionsBuilder;
    let port_bindings: HashMap<String, Option<Vec<PortBinding>>> = spec
        .ports
        .iter()
        .map(|(c, h)| {
            (
                format!("{c}/tcp"),
                Some(vec![PortBinding {
                    host_ip: Some("127.0.0.1".into()),
                    host_port: Some(h.to_string()),
                }]),
            )
        })
        .collect();
    let body = ContainerCreateBody {
        image: Some(spec.image.clone()),
        cmd: (!spec.cmd.is_empty()).then(|| spec.cmd.clone()),
        env: (!spec.env.is_empty()).then(|| spec.env.clone()),
        labels: Some(labels(lab)),
        exposed_ports: Some(spec.ports.iter().map(|(c, _)| format!("{c}/tcp")).collect()),
        host_config: Some(HostConfig {
            privileged: Some(spec.privileged),
            network_mode: Some(spec.network.clone()),
            port_bindings: Some(port_bindings),
            tmpfs: Some(
                spec.tmpfs
                    .iter()
                    .map(|t| (t.clone(), String::new()))
                    .collect(),
            ),
            binds: (!spec.binds.is_empty()).then(|| spec.binds.clone()),
            ..Default::default()
        }),
        ..Default::default()
    };
    docker
        .create_container(
            Some(
                CreateContainerOptionsBuilder::default()
                    .name(&spec.name)
                    .build(),
            ),
            body,
        )
        .await
        .map_err(LabError::docker(format!(
            "cannot create container {}",
            spec.name
        )))?;
    if let Err(e) = docker.start_container(&spec.name, None).await {
        let _ = docker
            .remove_container(
                &spec.name,
                Some(
                    RemoveContainerOptionsBuilder::default()
                        .force(true)
                        .v(true)
                        .build(),
                ),
            )
            .await;
        return Err(LabError::docker(format!(
            "cannot start container {}",
            spec.name
        ))(e));
    }
    Ok(())
}

/// Runs a command in a container and returns its standard output, or an error
/// with its standard error when it exits non-zero.
pub(crate) async fn exec_output(
    docker: &Docker,
    container: &str,
    cmd: &[&str],
) -> Result<String, LabError> {
    use bollard::exec::{CreateExecOptions, StartExecResults};
    use futures_util::StreamExt;
    let exec = docker
        .create_exec(
            container,
            CreateExecOptions {
                cmd: Some(cmd.iter().map(|s| s.to_string()).collect()),
                attach_stdout: Some(true),
                attach_stderr: Some(true),
                ..Default::default()
            },
        )
        .await
        .map_err(LabError::docker(format!("cannot exec in {container}")))?;
    let mut stdout = String::new();
    let mut stderr = String::new();
    if let StartExecResults::Attached { mut output, .. } =
        docker
            .start_exec(&exec.id, None)
            .await
            .map_err(LabError::docker(format!("cannot exec in {container}")))?
    {
        while let Some(chunk) = output.next().await {
            match chunk.map_err(LabError::docker(format!("cannot exec in {container}")))? {
                bollard::container::LogOutput::StdOut { message } => {
                    stdout.push_str(&String::from_utf8_lossy(&message))
                }
                bollard::container::LogOutput::StdErr { message } => {
                    stderr.push_str(&String::from_utf8_lossy(&message))
                }
                _ => {}
            }
        }
    }
    let code = docker
        .inspect_exec(&exec.id)
        .await
        .ok()
        .and_then(|i| i.exit_code)
        .unwrap_or(0);
    if code != 0 {
        return Err(LabError::Refused(format!(
            "`{}` in {container} exited {code}: {}",
            cmd.join(" "),
            stderr.trim()
        )));
    }
    Ok(stdout)
}
