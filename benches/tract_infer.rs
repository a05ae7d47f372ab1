//! Inference speed of an emitted graph in tract, driven by
//! `benches/peers/bench.py` (the side-by-side benchmark against the peers).
//!
//! ```sh
//! cargo bench --bench tract_infer -- MODEL.onnx ROWS.npy \
//!     [--batches 1,64,2000] [--min-time SECONDS] [--min-reps N] [--max-reps N] [--warmup N]
//! ```
//!
//! `ROWS.npy` (or `.csv`) holds at least as many rows as the largest batch;
//! they are cast to the graph's input type (float or double) before timing.
//! For each batch size the graph runs `--warmup` times, then until both
//! `--min-reps` runs and `--min-time` seconds are done (at most `--max-reps`).
//! One JSON object per batch size is printed on stdout, times in seconds.
//! tract runs on one thread here: its default executor is single-threaded
//! (svm2onnx's `validate` scopes a multithreaded one to its own calls only).

use std::time::Instant;
use svm2onnx::graph::ElemType;
use svm2onnx::run::GraphInfo;
use tract_onnx::prelude::*;

struct Args {
    model: String,
    rows: String,
    batches: Vec<usize>,
    min_time: f64,
    min_reps: usize,
    max_reps: usize,
    warmup: usize,
}

fn parse_args() -> Result<Args, String> {
    let mut positional = Vec::new();
    let mut args = Args {
        model: String::new(),
        rows: String::new(),
        batches: vec![1, 64, 2000],
        min_time: 1.0,
        min_reps: 5,
        max_reps: 10_000,
        warmup: 2,
    };
    let mut it = std::env::args().skip(1);
    while let Some(arg) = it.next() {
        let mut value = |name: &str| it.next().ok_or(format!("{name} needs a value"));
        match arg.as_str() {
            // `cargo bench` appends this flag to every bench binary.
            "--bench" => {}
            "--batches" => {
                args.batches = value("--batches")?
                    .split(',')
                    .map(|b| b.trim().parse().map_err(|e| format!("--batches: {e}")))
                    .collect::<Result<_, _>>()?
            }
            "--min-time" => {
                args.min_time = value("--min-time")?
                    .parse()
                    .map_err(|e| format!("--min-time: {e}"))?
            }
            "--min-reps" => {
                args.min_reps = value("--min-reps")?
                    .parse()
                    .map_err(|e| format!("--min-reps: {e}"))?
            }
            "--max-reps" => {
                args.max_reps = value("--max-reps")?
                    .parse()
                    .map_err(|e| format!("--max-reps: {e}"))?
            }
            "--warmup" => {
                args.warmup = value("--warmup")?
                    .parse()
                    .map_err(|e| format!("--warmup: {e}"))?
            }
            s if s.starts_with("--") => return Err(format!("unknown option {s}")),
            _ => positional.push(arg),
        }
    }
    match positional.as_slice() {
        [model, rows] => {
            args.model = model.clone();
            args.rows = rows.clone();
            Ok(args)
        }
        // `cargo bench` without arguments (e.g. `cargo bench --workspace`): nothing to time.
        [] => Err(String::new()),
        _ => Err("expected MODEL.onnx ROWS.npy".into()),
    }
}

fn main() -> TractResult<()> {
    let args = match parse_args() {
        Ok(a) => a,
        Err(e) if e.is_empty() => {
            eprintln!("tract_infer: no model given; usage: tract_infer MODEL.onnx ROWS.npy [--batches 1,64,2000]");
            return Ok(());
        }
        Err(e) => {
            eprintln!("tract_infer: {e}");
            std::process::exit(2);
        }
    };
    let bytes = std::fs::read(&args.model)?;
    let info = GraphInfo::from_bytes(&bytes).map_err(|e| TractError::msg(format!("{e}")))?;
    let rows = svm2onnx::data::read_rows(&std::fs::read(&args.rows)?)
        .map_err(|e| TractError::msg(format!("{}: {}", args.rows, e.0)))?;

    let t0 = Instant::now();
    let plan = tract_onnx::onnx()
        .model_for_read(&mut &bytes[..])?
        .into_optimized()?
        .into_runnable()?;
    let load_seconds = t0.elapsed().as_secs_f64();
    let mut state = plan.spawn()?;

    for &batch in &args.batches {
        if batch > rows.nrows() {
            return Err(TractError::msg(format!(
                "batch {batch} exceeds the {} rows given",
                rows.nrows()
            )));
        }
        let x = rows.slice(ndarray::s![..batch, ..]);
        let input: Tensor = match info.input_elem {
            ElemType::F64 => x.to_owned().into_dyn().into(),
            _ => x.mapv(|v| v as f32).into_dyn().into(),
        };
        let input = input.into_tvalue();
        for _ in 0..args.warmup {
            state.run(tvec!(input.clone()))?;
        }
        let mut times = Vec::new();
        let mut total = 0.0;
        while times.len() < args.max_reps && (times.len() < args.min_reps || total < args.min_time)
        {
            let t = Instant::now();
            let out = state.run(tvec!(input.clone()))?;
            let secs = t.elapsed().as_secs_f64();
            drop(out);
            total += secs;
            times.push(secs);
        }
        times.sort_by(f64::total_cmp);
        println!(
            "{}",
            serde_json::json!({
                "runtime": "tract",
                "model": args.model,
                "dtype": if info.input_elem == ElemType::F64 { "f64" } else { "f32" },
                "batch": batch,
                "threads": 1,
                "min": times[0],
                "median": times[times.len() / 2],
                "reps": times.len(),
                "load_seconds": load_seconds,
            })
        );
    }
    Ok(())
}
