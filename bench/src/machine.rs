//! One line describing the machine a benchmark ran on, for the results.

/// CPU model, core count, memory and kernel, from what the OS reports (Linux's `/proc`).
pub(crate) fn describe() -> String {
    let cpu = std::fs::read_to_string("/proc/cpuinfo")
        .ok()
        .and_then(|info| {
            info.lines()
                .find(|l| l.starts_with("model name"))
                .and_then(|l| l.split(':').nth(1))
                .map(|m| m.trim().to_owned())
        })
        .unwrap_or_else(|| "unknown CPU".to_owned());
    let cores = std::thread::available_parallelism().map_or(0, usize::from);
    let memory = std::fs::read_to_string("/proc/meminfo")
        .ok()
        .and_then(|info| {
            info.lines()
                .find(|l| l.starts_with("MemTotal"))
                .and_then(|l| l.split_whitespace().nth(1))
                .and_then(|kb| kb.parse::<u64>().ok())
        })
        .map_or_else(
            || "unknown memory".to_owned(),
            |kb| format!("{} GiB RAM", kb / 1024 / 1024),
        );
    let kernel = std::fs::read_to_string("/proc/sys/kernel/osrelease")
        .map(|k| format!("Linux {}", k.trim()))
        .unwrap_or_else(|_| std::env::consts::OS.to_owned());
    format!("{cpu}, {cores} cores, {memory}, {kernel}")
}

/// The lines every section ends with: the machine, when, and the command that reproduces it.
pub(crate) fn footer(reproduce: &str) -> String {
    format!(
        "Machine: {}.  \nMeasured: {}.  \nReproduce: {reproduce}\n",
        describe(),
        chrono::Utc::now().format("%Y-%m-%d %H:%M UTC")
    )
}
