//! The one tokio runtime of the process. Every [`crate::CoupClient`] is given
//! its handle (`ClientConfig::runtime`), and every call of the bindings is
//! spawned onto it, so nothing runs on a runtime of its own: the foreign side
//! (asyncio, Kotlin coroutines, Swift tasks) only awaits the result.
//!
//! (uniffi's `async_runtime = "tokio"` glue enters a tokio context of its own
//! while polling from a thread that has none; no task is spawned there.)

use std::future::Future;
use std::sync::OnceLock;

use tokio::runtime::{Handle, Runtime};

use crate::error::CoupError;

static RUNTIME: OnceLock<Runtime> = OnceLock::new();

/// The runtime, started on first use: a multi-threaded runtime with a worker per
/// core (at least two), threads named `coup-ffi`.
pub fn handle() -> Handle {
    RUNTIME
        .get_or_init(|| {
            let workers = std::thread::available_parallelism().map_or(2, |n| n.get().max(2));
            // Without a runtime nothing of the library works, and there is no
            // caller to hand the error to yet: this is the one place it may panic.
            #[allow(clippy::expect_used)]
            tokio::runtime::Builder::new_multi_thread()
                .worker_threads(workers)
                .thread_name("coup-ffi")
                .enable_all()
                .build()
                .expect("starting the coup-ffi tokio runtime")
        })
        .handle()
        .clone()
}

/// Runs `work` on the runtime and waits for it from whatever executor polls.
pub async fn run<T, F>(work: F) -> Result<T, CoupError>
where
    T: Send + 'static,
    F: Future<Output = Result<T, CoupError>> + Send + 'static,
{
    handle()
        .spawn(work)
        .await
        .map_err(|e| CoupError::internal(format!("task of the bindings: {e}")))?
}
