//! The error the UI receives, `{ code, message }` (defined in `bitaxe-app`), and the mapping of
//! the shell's own errors into it.

pub use bitaxe_app::CmdError;

/// A Tauri error (a path or window the shell could not get) as a command error.
pub fn app_error(e: tauri::Error) -> CmdError {
    CmdError::new("app", e.to_string())
}
