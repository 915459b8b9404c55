//! GPU mode: RISC Zero proving on an NVIDIA GPU.
//!
//! RISC Zero 3.0 picks its prover's hardware when it is compiled (`cfg(feature = "cuda")` in
//! each circuit's `segment_prover`), so one binary cannot prove on both, and a binary built for
//! CUDA is linked to the driver's `libcuda.so.1` and does not start where there is none. The CUDA
//! prover is therefore a program of its own, `blockprover-gpu` (bin/blockprover-gpu, built with
//! the `cuda` feature), and the CPU build runs it once per proof: the input on its standard
//! input, the proof in a file, progress lines on its standard output. Nothing it returns is
//! trusted: the proof is checked here against this binary's own image id before it is handed
//! out, so a GPU prover built from another checkout is refused, never believed.
//!
//! [`Device`] says where to prove, and [`Placement`] where a backend will and why.

use std::{
    io::{BufRead, BufReader, Read, Write},
    path::{Path, PathBuf},
    process::{Command, Stdio},
    sync::atomic::{AtomicU64, Ordering},
};

use serde::{Deserialize, Serialize};

use crate::{Progress, ProofFormat};

/// The GPU prover's file name, looked for beside the running binary.
pub const GPU_PROVER: &str = "blockprover-gpu";

/// Names another GPU prover than the one beside the binary.
pub const GPU_PROVER_ENV: &str = "BLOCKPROVER_GPU_PROVER";

/// How much of the GPU prover's standard error an error message keeps (its last bytes).
const STDERR_TAIL: usize = 4096;

/// Where to prove.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Device {
    /// On a GPU where this machine has one and the GPU prover is installed, else on the CPU.
    #[default]
    Auto,
    /// On the CPU.
    Cpu,
    /// On a GPU; an error where there is none.
    Gpu,
}

impl Device {
    /// Every choice.
    pub const ALL: [Device; 3] = [Device::Auto, Device::Cpu, Device::Gpu];

    /// The name used on the command line.
    pub fn name(self) -> &'static str {
        match self {
            Device::Auto => "auto",
            Device::Cpu => "cpu",
            Device::Gpu => "gpu",
        }
    }
}

impl std::fmt::Display for Device {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.name())
    }
}

impl std::str::FromStr for Device {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        crate::by_name(&Self::ALL, Self::name, s, "device")
    }
}

/// One GPU, as the CUDA driver describes it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct GpuDevice {
    /// The driver's index of the device.
    pub index: u32,
    /// Its name ("NVIDIA H200").
    pub name: String,
    /// Its memory.
    pub memory_bytes: u64,
    /// Its compute capability, major and minor (9.0 for Hopper).
    pub compute_capability: (u32, u32),
}

impl GpuDevice {
    /// The architecture's number as nvcc names it: 90 for sm_90.
    pub fn arch(&self) -> u32 {
        self.compute_capability.0 * 10 + self.compute_capability.1
    }
}

impl std::fmt::Display for GpuDevice {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let gib = self.memory_bytes as f64 / (1u64 << 30) as f64;
        write!(f, "GPU {} ({}, {gib:.0} GiB, sm_{})", self.index, self.name, self.arch())
    }
}

/// What `blockprover-gpu devices` reports.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct GpuReport {
    /// The CUDA version of the machine's driver, as the driver API gives it (13000 for 13.0).
    pub driver_version: u32,
    /// The architectures the prover's kernels were built for (machine code for each, and PTX
    /// of the last, which a newer GPU compiles when it loads it).
    pub archs: Vec<u32>,
    /// The devices the driver sees.
    pub devices: Vec<GpuDevice>,
}

impl GpuReport {
    /// The device to prove on: the first one the kernels run on.
    pub fn usable(&self) -> Result<&GpuDevice, GpuError> {
        let first = self.devices.first().ok_or(GpuError::NoDevice)?;
        let newest = self.archs.iter().max().copied().unwrap_or(0);
        // Machine code for the exact architecture, or PTX of an older one that the driver
        // compiles for a newer GPU.
        self.devices
            .iter()
            .find(|d| self.archs.contains(&d.arch()) || d.arch() > newest)
            .ok_or_else(|| GpuError::UnsupportedArch { device: first.to_string(), archs: self.archs.clone() })
    }
}

/// Where a RISC Zero backend proves, and why there.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Placement {
    /// In this process, on the CPU (or on the GPU, in a build of bp-backend with `cuda`).
    InProcess {
        /// Why here: "asked for" or what a GPU run lacks.
        reason: String,
    },
    /// On a GPU, through the GPU prover.
    Gpu {
        /// The GPU prover.
        prover: GpuProver,
        /// The device it proves on.
        device: GpuDevice,
    },
}

impl std::fmt::Display for Placement {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Placement::InProcess { reason } if cfg!(feature = "cuda") => write!(f, "proving on the GPU ({reason})"),
            Placement::InProcess { reason } => write!(f, "proving on the CPU ({reason})"),
            Placement::Gpu { prover, device } => {
                write!(f, "proving on {device} with {}", prover.path().display())
            }
        }
    }
}

/// The architectures this build's CUDA kernels were built for (`BLOCKPROVER_CUDA_ARCHS` when it
/// was built).
pub fn built_archs() -> Vec<u32> {
    env!("BP_CUDA_ARCHS").split_whitespace().filter_map(|arch| arch.parse().ok()).collect()
}

/// The GPUs of this machine, as the CUDA driver lists them (the GPU prover's `devices`).
#[cfg(feature = "cuda")]
pub fn cuda_devices() -> Result<GpuReport, GpuError> {
    use cust::device::{Device as CudaDevice, DeviceAttribute};
    let driver = |e: cust::error::CudaError| GpuError::NoDriver(format!("the CUDA driver: {e}"));
    match cust::init(cust::CudaFlags::empty()) {
        Err(cust::error::CudaError::NoDevice) => {
            return Ok(GpuReport { driver_version: 0, archs: built_archs(), devices: Vec::new() })
        }
        other => other.map_err(driver)?,
    }
    let version = cust::CudaApiVersion::get().map_err(driver)?;
    let mut devices = Vec::new();
    for index in 0..CudaDevice::num_devices().map_err(driver)? {
        let device = CudaDevice::get_device(index).map_err(driver)?;
        let attribute = |a| device.get_attribute(a).map(|v| u32::try_from(v).unwrap_or(0)).map_err(driver);
        devices.push(GpuDevice {
            index,
            name: device.name().map_err(driver)?,
            memory_bytes: device.total_memory().map_err(driver)? as u64,
            compute_capability: (
                attribute(DeviceAttribute::ComputeCapabilityMajor)?,
                attribute(DeviceAttribute::ComputeCapabilityMinor)?,
            ),
        });
    }
    let driver_version = u32::try_from(version.major() * 1000 + version.minor() * 10).unwrap_or(0);
    Ok(GpuReport { driver_version, archs: built_archs(), devices })
}

/// Why proving on a GPU is not possible, or failed.
#[derive(Debug, thiserror::Error)]
pub enum GpuError {
    /// There is no GPU prover where it is looked for.
    #[error(
        "no GPU prover: {0} does not exist (build it with `source scripts/cuda-toolchain.sh && cargo build --release \
         -p blockprover-gpu --features cuda` and put it beside this binary, or name it in {GPU_PROVER_ENV})"
    )]
    NotFound(PathBuf),
    /// The GPU prover could not be started.
    #[error("starting the GPU prover {path}: {source}")]
    Start {
        /// The program.
        path: PathBuf,
        /// What the system said.
        source: std::io::Error,
    },
    /// The machine has no NVIDIA driver (the GPU prover's `libcuda.so.1` is missing).
    #[error("no NVIDIA driver on this machine: {0}")]
    NoDriver(String),
    /// The driver is there but sees no GPU.
    #[error("no GPU: the NVIDIA driver sees no device")]
    NoDevice,
    /// The GPU's architecture is not one the kernels were built for.
    #[error(
        "{device} is not an architecture the GPU prover was built for (sm_{}); rebuild it with \
         BLOCKPROVER_CUDA_ARCHS naming this one",
        archs.iter().map(u32::to_string).collect::<Vec<_>>().join(", sm_")
    )]
    UnsupportedArch {
        /// The first device.
        device: String,
        /// What was built.
        archs: Vec<u32>,
    },
    /// The GPU prover exited with an error.
    #[error("the GPU prover failed ({status}): {stderr}")]
    Failed {
        /// How it exited.
        status: std::process::ExitStatus,
        /// The end of what it wrote to standard error.
        stderr: String,
    },
    /// The GPU prover answered something that is not what it should write.
    #[error("the GPU prover's answer is malformed: {0}")]
    Malformed(String),
}

/// The GPU prover program.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct GpuProver {
    path: PathBuf,
}

impl GpuProver {
    /// The GPU prover named by [`GPU_PROVER_ENV`], else the one beside the running binary.
    pub fn locate() -> Result<Self, GpuError> {
        let named = std::env::var_os(GPU_PROVER_ENV).map(PathBuf::from);
        Self::locate_from(named, std::env::current_exe().ok())
    }

    /// The GPU prover at `path`.
    pub fn at(path: impl Into<PathBuf>) -> Result<Self, GpuError> {
        Self::locate_from(Some(path.into()), None)
    }

    /// The GPU prover at `named`, else beside `exe`.
    fn locate_from(named: Option<PathBuf>, exe: Option<PathBuf>) -> Result<Self, GpuError> {
        let path = named
            .or_else(|| exe.and_then(|exe| exe.parent().map(|dir| dir.join(GPU_PROVER))))
            .unwrap_or_else(|| PathBuf::from(GPU_PROVER));
        if !path.is_file() {
            return Err(GpuError::NotFound(path));
        }
        Ok(Self { path })
    }

    /// The program's path.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// The GPUs this machine has, as the GPU prover's driver sees them.
    pub fn devices(&self) -> Result<GpuReport, GpuError> {
        let output = Command::new(&self.path)
            .arg("devices")
            .stdin(Stdio::null())
            .output()
            .map_err(|source| GpuError::Start { path: self.path.clone(), source })?;
        if !output.status.success() {
            let stderr = tail(&output.stderr);
            // The dynamic loader's words when the driver's library is not installed.
            if stderr.contains("libcuda.so") {
                return Err(GpuError::NoDriver(stderr));
            }
            return Err(GpuError::Failed { status: output.status, stderr });
        }
        serde_json::from_slice(&output.stdout).map_err(|e| GpuError::Malformed(format!("devices: {e}")))
    }

    /// Proves `input` on `device`: the proof's bytes ([`crate::Proof::to_bytes`]), not yet
    /// checked. Mirrors the prover's segment counts into `progress`.
    pub fn prove(
        &self,
        input: &[u8],
        options: &GpuProveOptions,
        device: &GpuDevice,
        progress: &Progress,
    ) -> Result<Vec<u8>, GpuError> {
        static RUNS: AtomicU64 = AtomicU64::new(0);
        let run = RUNS.fetch_add(1, Ordering::Relaxed);
        let proof_path = std::env::temp_dir().join(format!("blockprover-gpu-{}-{run}.proof", std::process::id()));
        let mut command = Command::new(&self.path);
        command
            .arg("prove")
            .arg("--output")
            .arg(&proof_path)
            .args(options.args())
            .env("CUDA_VISIBLE_DEVICES", device.index.to_string());
        let mut child = command
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .map_err(|source| GpuError::Start { path: self.path.clone(), source })?;
        let (Some(mut stdin), Some(stdout), Some(mut stderr)) =
            (child.stdin.take(), child.stdout.take(), child.stderr.take())
        else {
            return Err(GpuError::Malformed("its standard streams were not opened".into()));
        };
        let result = std::thread::scope(|scope| {
            // The input is written while its progress is read, so that neither pipe fills.
            let writer = scope.spawn(move || stdin.write_all(input));
            let errors = scope.spawn(move || {
                let mut all = Vec::new();
                let _ = stderr.read_to_end(&mut all);
                tail(&all)
            });
            for line in BufReader::new(stdout).lines().map_while(Result::ok) {
                if let Some((done, total)) = parse_progress(&line) {
                    progress.set(done, total);
                }
            }
            let status = child.wait().map_err(|source| GpuError::Start { path: self.path.clone(), source })?;
            let stderr = errors.join().unwrap_or_default();
            if !status.success() {
                return Err(GpuError::Failed { status, stderr });
            }
            writer
                .join()
                .map_err(|_| GpuError::Malformed("writing its input panicked".into()))?
                .map_err(|e| GpuError::Malformed(format!("it did not read its input: {e}")))?;
            std::fs::read(&proof_path)
                .map_err(|e| GpuError::Malformed(format!("no proof at {}: {e}", proof_path.display())))
        });
        let _ = std::fs::remove_file(&proof_path);
        result
    }
}

/// What the GPU prover is told besides the input.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct GpuProveOptions {
    /// The proof's format.
    pub format: ProofFormat,
    /// RISC Zero's segment size, as a power of two.
    pub segment_po2: Option<u32>,
    /// Whether the guest uses the keccak accelerator.
    pub no_keccak_accelerator: bool,
}

impl GpuProveOptions {
    /// The command-line arguments of `blockprover-gpu prove` that say the same.
    pub fn args(&self) -> Vec<String> {
        let mut args = vec!["--format".to_owned(), self.format.name().to_owned()];
        if let Some(po2) = self.segment_po2 {
            args.extend(["--segment-po2".to_owned(), po2.to_string()]);
        }
        if self.no_keccak_accelerator {
            args.push("--no-keccak-accelerator".to_owned());
        }
        args
    }
}

/// The progress line the GPU prover writes: "segments DONE TOTAL".
pub fn progress_line(done: u64, total: u64) -> String {
    format!("segments {done} {total}")
}

fn parse_progress(line: &str) -> Option<(u64, u64)> {
    let mut words = line.strip_prefix("segments ")?.split(' ');
    let done = words.next()?.parse().ok()?;
    let total = words.next()?.parse().ok()?;
    (words.next().is_none() && done <= total).then_some((done, total))
}

/// The last [`STDERR_TAIL`] bytes of `bytes`, as text.
fn tail(bytes: &[u8]) -> String {
    let start = bytes.len().saturating_sub(STDERR_TAIL);
    String::from_utf8_lossy(&bytes[start..]).trim().to_owned()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn device(index: u32, cc: (u32, u32)) -> GpuDevice {
        GpuDevice { index, name: format!("gpu{index}"), memory_bytes: 80 << 30, compute_capability: cc }
    }

    #[test]
    fn a_device_runs_its_own_architecture_or_a_newer_one_from_ptx() {
        let report = |devices| GpuReport { driver_version: 13000, archs: vec![89, 90, 100, 120], devices };
        assert_eq!(report(vec![device(0, (9, 0))]).usable().unwrap().index, 0);
        assert_eq!(report(vec![device(0, (12, 1))]).usable().unwrap().index, 0);
        assert_eq!(report(vec![device(0, (8, 0)), device(1, (8, 9))]).usable().unwrap().index, 1);
        assert!(matches!(report(vec![]).usable(), Err(GpuError::NoDevice)));
        let err = report(vec![device(0, (8, 0))]).usable().unwrap_err();
        assert!(matches!(&err, GpuError::UnsupportedArch { device, .. } if device.contains("sm_80")), "{err}");
        assert!(err.to_string().contains("sm_89, sm_90, sm_100, sm_120"), "{err}");
    }

    #[test]
    fn progress_lines_round_trip_and_nonsense_is_ignored() {
        assert_eq!(parse_progress(&progress_line(3, 12)), Some((3, 12)));
        for line in ["segments 13 12", "segments 1", "segments 1 2 3", "segments a 2", "proving", ""] {
            assert_eq!(parse_progress(line), None, "{line:?}");
        }
    }

    #[test]
    fn options_become_the_provers_arguments() {
        assert_eq!(GpuProveOptions::default().args(), ["--format", "composite"]);
        let options =
            GpuProveOptions { format: ProofFormat::Succinct, segment_po2: Some(21), no_keccak_accelerator: true };
        assert_eq!(options.args(), ["--format", "succinct", "--segment-po2", "21", "--no-keccak-accelerator"]);
    }

    /// A stand-in for blockprover-gpu: a shell script with the given body.
    fn fake_prover(dir: &Path, body: &str) -> GpuProver {
        let path = dir.join(GPU_PROVER);
        bp_testkit::script(&path, body);
        GpuProver::locate_from(Some(path), None).unwrap()
    }

    #[test]
    fn the_prover_is_looked_for_where_named_then_beside_the_binary() {
        let dir = tempfile::tempdir().unwrap();
        let missing = dir.path().join("nowhere");
        let err = GpuProver::locate_from(Some(missing.clone()), None).unwrap_err();
        assert!(matches!(&err, GpuError::NotFound(p) if *p == missing), "{err}");
        assert!(err.to_string().contains("--features cuda") && err.to_string().contains(GPU_PROVER_ENV), "{err}");
        let prover = fake_prover(dir.path(), "exit 0");
        let beside = GpuProver::locate_from(None, Some(dir.path().join("blockprover"))).unwrap();
        assert_eq!(beside, prover);
    }

    #[test]
    fn devices_are_read_and_a_missing_driver_or_a_failure_is_named() {
        let dir = tempfile::tempdir().unwrap();
        let prover = fake_prover(dir.path(), &format!("echo '{}'", bp_testkit::ONE_H200));
        let report = prover.devices().unwrap();
        assert_eq!(report.usable().unwrap().to_string(), "GPU 0 (NVIDIA H200, 140 GiB, sm_90)");

        // What the dynamic loader says where the driver is not installed.
        let prover = fake_prover(
            dir.path(),
            "echo 'blockprover-gpu: error while loading shared libraries: libcuda.so.1: cannot open shared \
             object file: No such file or directory' >&2; exit 127",
        );
        let err = prover.devices().unwrap_err();
        assert!(matches!(err, GpuError::NoDriver(ref m) if m.contains("libcuda.so.1")), "{err}");
        assert!(err.to_string().starts_with("no NVIDIA driver on this machine"), "{err}");

        let prover = fake_prover(dir.path(), "echo 'the CUDA driver: out of memory' >&2; exit 1");
        let err = prover.devices().unwrap_err();
        assert!(matches!(&err, GpuError::Failed { stderr, .. } if stderr == "the CUDA driver: out of memory"), "{err}");
        let prover = fake_prover(dir.path(), "echo 'not json'");
        assert!(matches!(prover.devices(), Err(GpuError::Malformed(_))));
        let prover = fake_prover(dir.path(), r#"echo '{"driver_version":13000,"archs":[90],"devices":[]}'"#);
        assert!(matches!(prover.devices().unwrap().usable(), Err(GpuError::NoDevice)));
    }

    #[test]
    fn a_proof_comes_back_with_its_progress_and_a_failure_with_its_reason() {
        let dir = tempfile::tempdir().unwrap();
        let device = device(3, (9, 0));
        // Echoes its input as the "proof", after two progress lines and one of noise; checks
        // that it is told the format and only sees the chosen GPU.
        let prover = fake_prover(
            dir.path(),
            r#"[ "$1 $4 $5 $CUDA_VISIBLE_DEVICES" = "prove --format succinct 3" ] || { echo "args: $* $CUDA_VISIBLE_DEVICES" >&2; exit 2; }
echo 'segments 1 2'; echo 'proving...'; echo 'segments 2 2'; cat > "$3""#,
        );
        let options = GpuProveOptions { format: ProofFormat::Succinct, ..GpuProveOptions::default() };
        let progress = Progress::default();
        let input = vec![7u8; 300_000];
        assert_eq!(prover.prove(&input, &options, &device, &progress).unwrap(), input);
        assert_eq!(progress.get(), (2, 2));

        let prover =
            fake_prover(dir.path(), "cat > /dev/null; echo 'CUDA error: an illegal memory access' >&2; exit 3");
        let err = prover.prove(&input, &options, &device, &progress).unwrap_err();
        assert!(
            matches!(&err, GpuError::Failed { status, stderr } if status.code() == Some(3) && stderr.contains("illegal")),
            "{err}"
        );
        let prover = fake_prover(dir.path(), "cat > /dev/null");
        assert!(
            matches!(prover.prove(&input, &options, &device, &progress), Err(GpuError::Malformed(m)) if m.contains("no proof"))
        );
    }

    #[test]
    fn devices_are_named_by_index_name_memory_and_architecture() {
        assert_eq!(device(1, (9, 0)).to_string(), "GPU 1 (gpu1, 80 GiB, sm_90)");
        assert_eq!("GPU".parse::<Device>(), Ok(Device::Gpu));
        assert!("tpu".parse::<Device>().unwrap_err().contains("expected auto, cpu or gpu"));
    }
}
