//! The machine a recording ran on, stored with every run: the numbers of two machines are
//! not comparable without it.

use sysinfo::{CpuRefreshKind, MemoryRefreshKind, RefreshKind, System};

/// CPU, memory and OS of this machine.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Host {
    /// Host name.
    pub name: Option<String>,
    /// CPU model (brand string of the first CPU).
    pub cpu_model: Option<String>,
    /// Logical cores.
    pub logical_cores: Option<i32>,
    /// Total memory, bytes.
    pub memory_bytes: Option<i64>,
    /// OS name and version, and the kernel version.
    pub os: Option<String>,
}

impl Host {
    /// Reads this machine's description (missing pieces are None).
    pub fn current() -> Self {
        let refresh = RefreshKind::nothing()
            .with_cpu(CpuRefreshKind::nothing())
            .with_memory(MemoryRefreshKind::nothing().with_ram());
        let Ok(system) = System::new_with_specifics(refresh) else {
            return Host::default();
        };
        let cpu_model = system
            .cpus()
            .first()
            .map(|c| c.brand().trim().to_string())
            .filter(|b| !b.is_empty());
        let cores = system.cpus().len();
        let os = match (
            System::long_os_version().ok(),
            System::kernel_version().ok(),
        ) {
            (Some(os), Some(kernel)) => Some(format!("{os}, kernel {kernel}")),
            (os, kernel) => os.or(kernel),
        };
        Host {
            name: System::host_name().ok(),
            cpu_model,
            logical_cores: (cores > 0).then_some(cores as i32),
            memory_bytes: Some(system.total_memory() as i64).filter(|m| *m > 0),
            os,
        }
    }
}
