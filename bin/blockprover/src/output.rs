//! What commands print on standard output. A reader that goes away (`blockprover execute … |
//! head -1`) ends the command quietly, with success, instead of a panic.

use std::{
    fmt::Display,
    io::{ErrorKind, Write},
};

/// Writes `text` to standard output; exits quietly if the reader has gone.
pub(crate) fn write(text: impl Display) {
    let mut stdout = std::io::stdout().lock();
    if let Err(e) = write!(stdout, "{text}").and_then(|()| stdout.flush()) {
        if e.kind() == ErrorKind::BrokenPipe {
            std::process::exit(0);
        }
        write_err(format_args!("error: writing to standard output: {e}\n"));
        std::process::exit(1);
    }
}

/// A JSON document on one or more lines.
pub(crate) fn json(value: &serde_json::Value) {
    let text = serde_json::to_string_pretty(value).unwrap_or_else(|e| format!("{{\"error\": \"{e}\"}}"));
    write(format_args!("{text}\n"));
}

/// `println!` through [`write`].
macro_rules! outln {
    () => { $crate::output::write("\n") };
    ($($arg:tt)*) => { $crate::output::write(format_args!("{}\n", format_args!($($arg)*))) };
}
pub(crate) use outln;

/// Writes `text` to standard error, dropping it if standard error is closed: progress and
/// diagnostics are not worth a panic (`eprintln!` panics, exit 101) when a reader of
/// `2>&1 | head` goes away.
pub(crate) fn write_err(text: impl Display) {
    let _ = write!(std::io::stderr().lock(), "{text}");
}

/// `eprintln!` through [`write_err`].
macro_rules! errln {
    ($($arg:tt)*) => { $crate::output::write_err(format_args!("{}\n", format_args!($($arg)*))) };
}
pub(crate) use errln;
