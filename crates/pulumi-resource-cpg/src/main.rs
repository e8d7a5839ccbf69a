//! `pulumi-resource-cpg`: started by the Pulumi engine as
//! `pulumi-resource-cpg [flags…] <engine address>`; prints the port it serves on, then
//! serves until the engine goes away or it is interrupted.

use std::io::Write;
use std::net::SocketAddr;
use std::process::ExitCode;
use std::sync::Arc;
use std::time::Duration;

use pulumi_resource_cpg::{Engine, Error, Options, gone, serve};

/// How often the engine is checked for.
const ENGINE_PROBE_INTERVAL: Duration = Duration::from_secs(2);

#[tokio::main]
async fn main() -> ExitCode {
    // The engine passes logging flags (`-v=9`, `--logtostderr`, `--tracing …`) before its
    // address, which is the last argument.
    let args: Vec<String> = std::env::args().skip(1).collect();
    let engine_address = args.last().filter(|a| !a.starts_with('-')).cloned();
    let probed = match engine_address.as_deref() {
        Some(address) => match reach(address).await {
            Ok(found) => Some(found),
            Err(message) => {
                eprintln!("pulumi-resource-cpg: {message}");
                return ExitCode::FAILURE;
            }
        },
        None => None,
    };
    match run(engine_address, probed).await {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            let mut message = format!("pulumi-resource-cpg: {e}");
            let mut source = std::error::Error::source(&e);
            while let Some(s) = source {
                message.push_str(&format!(": {s}"));
                source = s.source();
            }
            eprintln!("{message}");
            ExitCode::FAILURE
        }
    }
}

/// How long resolving and connecting to the engine's address may take at start.
const ENGINE_REACH_TIMEOUT: Duration = Duration::from_secs(5);

/// The engine's address resolved and connected to once, or why not.
async fn reach(address: &str) -> Result<SocketAddr, String> {
    let resolved = tokio::time::timeout(ENGINE_REACH_TIMEOUT, tokio::net::lookup_host(address))
        .await
        .map_err(|_| format!("the engine address {address} did not resolve in time"))?
        .map_err(|e| format!("the engine address {address} does not resolve: {e}"))?
        .next()
        .ok_or_else(|| format!("the engine address {address} resolves to no address"))?;
    tokio::time::timeout(
        ENGINE_REACH_TIMEOUT,
        tokio::net::TcpStream::connect(resolved),
    )
    .await
    .map_err(|_| format!("cannot reach the engine at {address}: no answer in time"))?
    .map_err(|e| format!("cannot reach the engine at {address}: {e}"))?;
    Ok(resolved)
}

async fn run(engine_address: Option<String>, probed: Option<SocketAddr>) -> Result<(), Error> {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .map_err(Error::Io)?;
    let port = listener.local_addr().map_err(Error::Io)?.port();
    let engine = Arc::new(Engine::new(engine_address.as_deref())?);
    {
        let mut out = std::io::stdout().lock();
        writeln!(out, "{port}").map_err(Error::Io)?;
        out.flush().map_err(Error::Io)?;
    }
    let shutdown = async move {
        let engine_gone = async {
            match probed {
                Some(address) => gone(address, ENGINE_PROBE_INTERVAL).await,
                None => std::future::pending().await,
            }
        };
        tokio::select! {
            () = engine_gone => {}
            () = interrupted() => {}
        }
    };
    serve(listener, engine, Options::default(), shutdown).await
}

/// Resolves on SIGINT or SIGTERM.
async fn interrupted() {
    let mut term = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()).ok();
    tokio::select! {
        _ = tokio::signal::ctrl_c() => {}
        Some(()) = async { match term.as_mut() { Some(t) => t.recv().await, None => None } } => {}
    }
}
