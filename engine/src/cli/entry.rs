//! The one `main` every command line built on the engine runs in (`migrate`, a project's `seed`):
//! `.env`, parsing, the panic hook, the async runtime, and the exit code the run ends with.

use std::future::Future;
use std::process::ExitCode;

use clap::Parser;

use super::exit::{self, CliError, Failure};
use super::exit_code::{FAILED, SUCCESS, USAGE};
use crate::error::EngineError;

/// Loads `.env`, parses the command line as `C`, runs `run` on it in a current-thread runtime,
/// and returns the exit code: `run`'s own on success; for an error, the one
/// [`exit::report`] prints it with; 2 for a usage error (0 for `--help` and `--version`); 1 when
/// the runtime cannot start or the command panicked (the panic hook has printed it).
pub fn main<C, E, F, Fut>(run: F) -> ExitCode
where
    C: Parser,
    E: CliError + From<EngineError>,
    F: FnOnce(C) -> Fut,
    Fut: Future<Output = Result<u8, Failure<E>>>,
{
    // Read before parsing, so that clap sees .env's values as environment; reported after, so
    // that `--help` works beside a broken file.
    let env_error = read_dotenv().err();
    let cli = match C::try_parse() {
        Ok(cli) => cli,
        Err(e) => {
            let code = if e.use_stderr() { USAGE } else { SUCCESS };
            // A value our own parser refused: its message names the accepted values, on one
            // line like every other error (clap would add a blank line and a pointer to --help).
            if e.kind() == clap::error::ErrorKind::ValueValidation
                && let Some(first) = e.render().to_string().lines().next()
            {
                eprintln!("{first}");
                return ExitCode::from(code);
            }
            let _ = e.print();
            return ExitCode::from(code);
        }
    };
    if let Some(e) = env_error {
        return ExitCode::from(exit::report(&E::from(e), None));
    }
    exit::install_panic_hook();
    let runtime = match tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
    {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("error: cannot start the async runtime: {e}");
            return ExitCode::from(FAILED);
        }
    };
    let ended =
        std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| runtime.block_on(run(cli))));
    ExitCode::from(match ended {
        Ok(Ok(code)) => code,
        Ok(Err(failure)) => {
            let (error, target) = *failure;
            exit::report(&error, target.as_ref())
        }
        Err(_) => FAILED,
    })
}

/// Loads `.env` from the working directory into the environment (variables already set win),
/// for this and every other command line built on the engine. A missing file is fine.
///
/// # Errors
/// [`EngineError::Config`] for an unreadable file or a malformed line. The message says where,
/// never what: dotenvy's own message quotes the whole line, which may hold a secret.
pub fn read_dotenv() -> Result<(), EngineError> {
    let e = match dotenvy::dotenv() {
        Ok(_) => return Ok(()),
        Err(e) if e.not_found() => return Ok(()),
        Err(e) => e,
    };
    let detail = match &e {
        dotenvy::Error::LineParse(line, index) => {
            let key = line.split('=').next().unwrap_or("").trim();
            format!("syntax error at character {index} of the line for `{key}`")
        }
        dotenvy::Error::Io(io) => io.kind().to_string(),
        _ => "unreadable".to_owned(),
    };
    Err(EngineError::Config {
        message: format!("cannot read .env: {detail}; fix the line or remove the file"),
    })
}
