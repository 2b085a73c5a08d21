//! Checking a config draft the way the engine will load it: first as the file would parse
//! (types, unknown keys, the first broken rule), then every rule [`Config::validate`] checks.

use std::path::Path;

use bitaxe_core::config::{path_string, Config, ConfigError};

use crate::models::DraftProblem;

pub fn check(draft: &serde_json::Value) -> Vec<DraftProblem> {
    let text = draft.to_string();
    match Config::parse(&text, Path::new("draft")) {
        Ok(config) => config
            .validate()
            .into_iter()
            .map(|p| DraftProblem {
                code: "config_invalid".into(),
                message: p.message,
                path: path_string(&p.path),
            })
            .collect(),
        Err(e) => {
            let code = e.code().to_string();
            let (path, message) = match e {
                ConfigError::Invalid { key, message, .. } => (key, message),
                ConfigError::Syntax { message, .. } => (String::new(), message),
                ConfigError::Io { source, .. } => (String::new(), source.to_string()),
            };
            vec![DraftProblem {
                code,
                message,
                path,
            }]
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn draft() -> serde_json::Value {
        serde_json::to_value(Config::default()).expect("json")
    }

    #[test]
    fn a_sound_draft_has_no_problems() {
        assert_eq!(check(&draft()), vec![]);
    }

    #[test]
    fn problems_name_the_field_as_the_form_does() {
        let mut d = draft();
        d["global_night_settings"]["voltage"] = json!(1900);
        let p = check(&d);
        assert_eq!(p.len(), 1, "{p:?}");
        assert_eq!(p[0].path, "global_night_settings.voltage");
        assert_eq!(p[0].code, "config_invalid");
        assert!(p[0].message.contains("1900"), "{}", p[0].message);

        let mut d = draft();
        d["max_temp"] = json!("hot");
        let p = check(&d);
        assert_eq!(
            (p[0].path.as_str(), p[0].code.as_str()),
            ("max_temp", "config_invalid")
        );

        let mut d = draft();
        d["max_tmep"] = json!(60);
        assert_eq!(check(&d)[0].path, "max_tmep");
    }
}
