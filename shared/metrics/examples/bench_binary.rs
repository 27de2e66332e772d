//! Times `BinaryMetrics::exact` on a file of scores and actuals, for
//! scripts/bench/binary_vs_sklearn.py.
//!
//! Usage: `bench_binary FILE [REPEATS]`. The file contains a little-endian `u64` record count `n`,
//! then `n` little-endian `f64` scores, then `n` bytes that are 1 for a positive actual and 0
//! otherwise. Only the computation is timed, on one thread. The output is one JSON line with
//! every run's wall-clock seconds, its CPU seconds where Linux reports them, and a few metric
//! values for cross-checking.

use std::{env, fs, process::ExitCode, time::Instant};

use mpt_metrics::binary::BinaryMetrics;

fn read_records(path: &str) -> Result<(Vec<f64>, Vec<bool>), String> {
    let bytes = fs::read(path).map_err(|error| format!("cannot read {path}: {error}"))?;
    let header: [u8; 8] = bytes
        .get(..8)
        .and_then(|slice| slice.try_into().ok())
        .ok_or_else(|| format!("{path} is shorter than its 8-byte header"))?;
    let n = u64::from_le_bytes(header) as usize;
    let expected_len = 8 + 9 * n;
    if bytes.len() != expected_len {
        return Err(format!(
            "{path} has {} bytes but a file of {n} records needs {expected_len}",
            bytes.len()
        ));
    }
    let scores = bytes[8..8 + 8 * n]
        .chunks_exact(8)
        .map(|chunk| f64::from_le_bytes(chunk.try_into().unwrap_or([0; 8])))
        .collect();
    let actuals = bytes[8 + 8 * n..].iter().map(|byte| *byte != 0).collect();
    Ok((scores, actuals))
}

/// Returns the CPU time this thread has used, from Linux's `/proc/thread-self/schedstat`, whose
/// first field is nanoseconds on the CPU. Wall-clock time alone misleads on a shared machine.
fn thread_cpu_seconds() -> Option<f64> {
    let text = fs::read_to_string("/proc/thread-self/schedstat").ok()?;
    let nanoseconds: f64 = text.split_whitespace().next()?.parse().ok()?;
    Some(nanoseconds / 1e9)
}

fn main() -> ExitCode {
    let args: Vec<String> = env::args().collect();
    let Some(path) = args.get(1) else {
        eprintln!("usage: bench_binary FILE [REPEATS]");
        return ExitCode::from(2);
    };
    let repeats: usize = match args.get(2).map(|text| text.parse()) {
        None => 3,
        Some(Ok(repeats)) if repeats > 0 => repeats,
        Some(_) => {
            eprintln!("REPEATS must be a positive integer, got {:?}", args[2]);
            return ExitCode::from(2);
        }
    };
    let (scores, actuals) = match read_records(path) {
        Ok(records) => records,
        Err(message) => {
            eprintln!("{message}");
            return ExitCode::FAILURE;
        }
    };

    let mut seconds = Vec::with_capacity(repeats);
    let mut cpu_seconds = Vec::with_capacity(repeats);
    let mut last = None;
    for _ in 0..repeats {
        let cpu_start = thread_cpu_seconds();
        let start = Instant::now();
        let metrics = match BinaryMetrics::exact(&scores, &actuals, 0.5) {
            Ok(metrics) => metrics,
            Err(error) => {
                eprintln!("cannot compute metrics for {path}: {error}");
                return ExitCode::FAILURE;
            }
        };
        seconds.push(start.elapsed().as_secs_f64());
        if let (Some(end), Some(start)) = (thread_cpu_seconds(), cpu_start) {
            cpu_seconds.push(end - start);
        }
        last = Some(metrics);
    }
    let Some(metrics) = last else {
        return ExitCode::FAILURE;
    };
    let summary = serde_json::json!({
        "n": scores.len(),
        "seconds": seconds,
        "cpu_seconds": cpu_seconds,
        "accuracy": metrics.accuracy,
        "roc_auc": metrics.roc_auc,
        "pr_auc": metrics.pr_auc,
        "log_loss": metrics.log_loss,
        "mcc": metrics.mcc,
    });
    println!("{summary}");
    ExitCode::SUCCESS
}
