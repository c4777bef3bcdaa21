//! An API server outage on demand: a TCP forwarder between gwlab and a real
//! API server that can stop for a while, refusing new connections and
//! cutting the open ones (watches too), then come back on the same port.
//! The API server itself keeps running, so the stand-in controller (which
//! talks to it directly) keeps writing status, as a real cluster's would
//! while a load balancer in front of its API server fails over.

#![allow(dead_code)]

use std::net::SocketAddr;
use std::sync::Mutex;
use std::time::Duration;

use tokio::net::{TcpListener, TcpStream};
use tokio::task::{JoinHandle, JoinSet};

pub struct Outage {
    pub addr: SocketAddr,
    upstream: SocketAddr,
    serving: Mutex<Option<JoinHandle<()>>>,
}

impl Outage {
    /// A forwarder to `upstream`, serving on a loopback port of its own.
    pub async fn start(upstream: SocketAddr) -> Outage {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let o = Outage {
            addr,
            upstream,
            serving: Mutex::new(None),
        };
        o.serve(listener);
        o
    }

    fn serve(&self, listener: TcpListener) {
        let upstream = self.upstream;
        let task = tokio::spawn(async move {
            // Dropped with the task: every open connection is cut.
            let mut connections = JoinSet::new();
            loop {
                let Ok((mut down, _)) = listener.accept().await else {
                    continue;
                };
                connections.spawn(async move {
                    if let Ok(mut up) = TcpStream::connect(upstream).await {
                        let _ = tokio::io::copy_bidirectional(&mut down, &mut up).await;
                    }
                });
                while connections.try_join_next().is_some() {}
            }
        });
        *self.serving.lock().unwrap() = Some(task);
    }

    /// Stops for `length`: connections are cut and new ones refused; then
    /// serves again on the same port.
    pub async fn outage(&self, length: Duration) {
        let serving = self.serving.lock().unwrap().take();
        if let Some(task) = serving {
            task.abort();
            let _ = task.await;
        }
        tokio::time::sleep(length).await;
        // The port was just freed; binding it again may take a moment.
        for _ in 0..50 {
            if let Ok(l) = TcpListener::bind(self.addr).await {
                self.serve(l);
                return;
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        panic!("could not serve on {} again", self.addr);
    }

    /// A copy of `kubeconfig` whose server is this forwarder.
    pub fn kubeconfig(&self, kubeconfig: &std::path::Path, server: &str, to: &std::path::Path) {
        let text = std::fs::read_to_string(kubeconfig).unwrap();
        assert!(text.contains(server), "{text}");
        let proxied = text.replace(server, &format!("https://{}", self.addr));
        std::fs::write(to, proxied).unwrap();
    }
}
