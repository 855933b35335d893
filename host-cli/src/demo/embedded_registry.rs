//! nv2-registry instances run in-process for `nv2 demo`: each on a free loopback port, with its own data directory
//! and access mode, stoppable (and restartable on the same data) to show offline verification.

use std::net::SocketAddr;
use std::path::{Path, PathBuf};

use nv2_registry::auth::{AuthScheme, Grant};
use nv2_registry::config::{AccessMode, Settings};
use tokio::sync::oneshot;
use tokio::task::JoinHandle;

/// A running embedded registry.
pub struct EmbeddedRegistry {
    /// Its role in the story (`public`, `private`, `air-gapped`).
    pub role: &'static str,
    /// `127.0.0.1:PORT`.
    pub host: String,
    settings: Settings,
    stop: Option<oneshot::Sender<()>>,
    task: Option<JoinHandle<Result<(), String>>>,
}

/// How an embedded registry is set up.
pub struct RegistrySetup {
    /// Its role in the story.
    pub role: &'static str,
    /// Who may pull and push.
    pub access: AccessMode,
    /// `user:password` pairs (bcrypt-hashed into an htpasswd file).
    pub users: Vec<(String, String)>,
    /// Basic or the Docker token flow.
    pub auth_scheme: AuthScheme,
    /// Per-user grants (empty: every authenticated user may do everything).
    pub grants: Vec<Grant>,
}

impl EmbeddedRegistry {
    /// Starts a registry storing under `data_dir`.
    pub async fn start(setup: RegistrySetup, data_dir: &Path) -> Result<Self, String> {
        let htpasswd = if setup.users.is_empty() {
            None
        } else {
            let mut lines = String::new();
            for (user, password) in &setup.users {
                let hash = bcrypt::hash(password, 4).map_err(|e| format!("hashing the demo password: {e}"))?;
                lines.push_str(&format!("{user}:{hash}\n"));
            }
            let path = data_dir.with_extension("htpasswd");
            crate::atomic_file::write(&path, lines.as_bytes(), crate::atomic_file::Mode::Private)
                .map_err(|e| format!("{}: {e}", path.display()))?;
            Some(path)
        };
        let settings = Settings {
            data_dir: data_dir.to_path_buf(),
            access: setup.access,
            htpasswd,
            auth_scheme: setup.auth_scheme,
            grants: setup.grants,
            gc_interval_secs: 0,
            ..Settings::default()
        };
        Self::serve(setup.role, settings, SocketAddr::from(([127, 0, 0, 1], 0))).await
    }

    async fn serve(role: &'static str, mut settings: Settings, address: SocketAddr) -> Result<Self, String> {
        let listener =
            tokio::net::TcpListener::bind(address).await.map_err(|e| format!("{role} registry: cannot listen: {e}"))?;
        let local = listener.local_addr().map_err(|e| format!("{role} registry: {e}"))?;
        settings.listen = local;
        let (stop, stopped) = oneshot::channel::<()>();
        let run_settings = settings.clone();
        let task = tokio::spawn(async move {
            nv2_registry::run_on(run_settings, listener, async {
                let _ = stopped.await;
            })
            .await
            .map_err(|e| e.to_string())
        });
        Ok(EmbeddedRegistry { role, host: local.to_string(), settings, stop: Some(stop), task: Some(task) })
    }

    /// The registry's data directory.
    pub fn data_dir(&self) -> PathBuf {
        self.settings.data_dir.clone()
    }

    /// Stops serving (in-flight requests finish); the data stays.
    pub async fn stop(&mut self) -> Result<(), String> {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
        match self.task.take() {
            Some(task) => task.await.map_err(|e| format!("{} registry: {e}", self.role))?,
            None => Ok(()),
        }
    }

    /// Serves the same data again on the same port.
    pub async fn restart(&mut self) -> Result<(), String> {
        self.stop().await?;
        let address: SocketAddr = self.host.parse().map_err(|e| format!("{}: {e}", self.host))?;
        let again = Self::serve(self.role, self.settings.clone(), address).await?;
        *self = again;
        Ok(())
    }
}

impl Drop for EmbeddedRegistry {
    fn drop(&mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
    }
}
