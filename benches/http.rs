//! Report status checks over HTTP: the app serving on its own runtime, a
//! load generator on another (both on this machine's cores, as wrk would
//! be), keep-alive connections, `GET /api/v1/reports/{number}?code=` for one
//! issued report. Prints requests per second and latency percentiles, on
//! SQLite and (with `BENCH_DATABASE_URL`) PostgreSQL.
//!
//! `cargo bench --bench http` (`BENCH_SECONDS`, `BENCH_CONNECTIONS` to vary)
#![allow(clippy::unwrap_used, clippy::expect_used)] // a benchmark fails loudly

mod common;

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use rand::SeedableRng;
use standing::app::Application;
use standing::demo::demo_dir;
use standing::keys::load_signer;
use standing::registry::issue::issue_report;

fn env_or(name: &str, default: u64) -> u64 {
    std::env::var(name).ok().and_then(|v| v.parse().ok()).unwrap_or(default)
}

fn run(label: &str, url: String) {
    // The limits are for the open internet; this measures the service.
    let dir = tempfile::tempdir().unwrap();
    let server = tokio::runtime::Builder::new_multi_thread().worker_threads(2).enable_all().build().unwrap();
    let (base, status_path) = server.block_on(async {
        let mut state = common::open_state(&url, dir.path()).await;
        let mut settings = (*state.settings).clone();
        settings.verify.requests_per_minute = u32::MAX;
        settings.listen = "127.0.0.1:0".parse().unwrap();
        state.settings = Arc::new(settings);
        state.limits = Arc::new(standing::web::rate_limit::VerifyLimits::new(&state.settings.verify));
        state.load_demo_if_empty(&demo_dir()).await.unwrap();
        let now = state.clock.now();
        let signer = load_signer(&state.settings, &state.cipher, now).unwrap();
        let mut rng = rand_chacha::ChaCha20Rng::seed_from_u64(1);
        let issued = issue_report(
            &state.settings,
            &state.store,
            &state.cipher,
            &signer,
            &standing::domain::AccountId::parse("A1013").unwrap(),
            now.date_naive(),
            now,
            &mut rng,
        )
        .await
        .unwrap();
        state.registry.record(&issued, None, None).await.unwrap();
        let app = Application::build(state).await.unwrap();
        let base = format!("http://{}", app.local_addr().unwrap());
        tokio::spawn(app.run_until(std::future::pending()));
        (base, format!("/api/v1/reports/{}?code={}", issued.data.report_number, issued.data.verification_code))
    });

    let seconds = env_or("BENCH_SECONDS", 10);
    let connections = env_or("BENCH_CONNECTIONS", 32) as usize;
    let client_rt = tokio::runtime::Builder::new_multi_thread().worker_threads(1).enable_all().build().unwrap();
    let (count, errors, mut latencies) = client_rt.block_on(async move {
        let client = reqwest::Client::builder().pool_max_idle_per_host(connections).build().unwrap();
        let target = format!("{base}{status_path}");
        // Warm up: connections open, caches and pools filled.
        for _ in 0..200 {
            assert_eq!(client.get(&target).send().await.unwrap().status(), 200);
        }
        let stop = Arc::new(AtomicBool::new(false));
        let mut tasks = Vec::new();
        for _ in 0..connections {
            let (client, target, stop) = (client.clone(), target.clone(), stop.clone());
            tasks.push(tokio::spawn(async move {
                let mut latencies = Vec::new();
                let mut errors = 0u64;
                while !stop.load(Ordering::Relaxed) {
                    let started = Instant::now();
                    match client.get(&target).send().await {
                        Ok(r) if r.status() == 200 => {
                            let _ = r.bytes().await;
                            latencies.push(started.elapsed());
                        }
                        _ => errors += 1,
                    }
                }
                (latencies, errors)
            }));
        }
        tokio::time::sleep(Duration::from_secs(seconds)).await;
        stop.store(true, Ordering::Relaxed);
        let mut all = Vec::new();
        let mut errors = 0;
        for t in tasks {
            let (l, e) = t.await.unwrap();
            all.extend(l);
            errors += e;
        }
        (all.len(), errors, all)
    });
    let (median, p99) = common::median_p99_ms(&mut latencies);
    println!(
        "{label:<10} status checks: {:>7.0} req/s over {seconds} s, {connections} connections, median {median:.2} ms, \
         p99 {p99:.2} ms, {errors} errors",
        count as f64 / seconds as f64
    );
    server.shutdown_background();
}

fn main() {
    let dir = tempfile::tempdir().unwrap();
    run("sqlite", format!("sqlite:{}", dir.path().join("bench.db").display()));
    let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap();
    runtime.block_on(common::with_fresh_postgres("http", |url| async move {
        std::thread::spawn(move || run("postgres", url)).join().unwrap();
    }));
}
