//! The binary as the engine starts it.

use std::io::{BufRead, BufReader};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use pulumi_gestalt_proto::pulumi::pulumirpc::resource_provider_client::ResourceProviderClient;

#[tokio::test]
async fn prints_its_port_serves_and_stops_when_the_engine_goes() {
    // The engine: something listening that the provider can probe.
    let engine = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
    let engine_address = engine.local_addr().expect("address").to_string();
    let mut child = Command::new(env!("CARGO_BIN_EXE_pulumi-resource-cpg"))
        .args(["--logtostderr", "-v=9", &engine_address])
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .expect("spawn");
    let stdout = child.stdout.take().expect("stdout");
    let mut first = String::new();
    BufReader::new(stdout)
        .read_line(&mut first)
        .expect("read port");
    let port: u16 = first.trim().parse().expect("the first line is the port");

    let mut client = ResourceProviderClient::connect(format!("http://127.0.0.1:{port}"))
        .await
        .expect("connect");
    let info = client.get_plugin_info(()).await.expect("info").into_inner();
    assert_eq!(info.version, env!("CARGO_PKG_VERSION"));

    drop(engine);
    let start = Instant::now();
    let status = loop {
        if let Some(status) = child.try_wait().expect("wait") {
            break Some(status);
        }
        if start.elapsed() > Duration::from_secs(20) {
            let _ = child.kill();
            break None;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    };
    assert!(
        status.is_some_and(|s| s.success()),
        "the provider exits cleanly once the engine is gone: {status:?}"
    );
}

/// Runs the binary with `engine_address` and returns its exit status and standard error,
/// or `None` when it has not exited within 20 seconds.
fn run_with_engine(engine_address: &str) -> Option<(std::process::ExitStatus, String)> {
    let mut child = Command::new(env!("CARGO_BIN_EXE_pulumi-resource-cpg"))
        .arg(engine_address)
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .expect("spawn");
    let start = Instant::now();
    loop {
        if let Some(status) = child.try_wait().expect("wait") {
            let mut stderr = String::new();
            if let Some(mut pipe) = child.stderr.take() {
                let _ = std::io::Read::read_to_string(&mut pipe, &mut stderr);
            }
            return Some((status, stderr));
        }
        if start.elapsed() > Duration::from_secs(20) {
            let _ = child.kill();
            let _ = child.wait();
            return None;
        }
        std::thread::sleep(Duration::from_millis(50));
    }
}

#[test]
fn an_engine_address_that_does_not_resolve_ends_the_provider_with_a_message() {
    let (status, stderr) = run_with_engine("no-such-host.invalid:1").expect("exits");
    assert!(!status.success());
    assert!(
        stderr.contains("the engine address no-such-host.invalid:1 does not resolve")
            || stderr.contains("the engine address no-such-host.invalid:1 did not resolve"),
        "{stderr}"
    );
}

#[test]
fn an_engine_nothing_listens_for_ends_the_provider_with_a_message() {
    let address = std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .expect("free port")
        .to_string();
    let (status, stderr) = run_with_engine(&address).expect("exits");
    assert!(!status.success());
    assert!(
        stderr.contains(&format!("cannot reach the engine at {address}")),
        "{stderr}"
    );
}
