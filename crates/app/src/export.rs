//! Export file names: whatever the window sends (range, miner name, kind), the file lands in
//! the chosen folder under one safe name. No path separators or `..` (it cannot leave the
//! folder), no control or reserved characters, no Windows device names (`CON`, `NUL`, `COM1`,
//! ...), no trailing dots or spaces, and at most [`MAX_NAME_BYTES`] bytes with the extension kept.

/// Longest file name written, in bytes (file systems allow 255; leave room for the folder).
pub const MAX_NAME_BYTES: usize = 120;

/// What an export's name says: `bitaxe[-miner]-range-stamp.ext`, made safe.
pub fn file_name(miner: Option<&str>, range: &str, stamp: &str, ext: &str) -> String {
    let mut stem = String::from("bitaxe");
    for part in miner.into_iter().chain([range, stamp]) {
        let part = clean(part);
        if !part.is_empty() {
            stem.push('-');
            stem.push_str(&part);
        }
    }
    sanitize(&format!("{stem}.{}", clean(ext)))
}

/// Make `name` safe as one file name on Linux, macOS and Windows.
pub fn sanitize(name: &str) -> String {
    let cleaned = clean(name);
    // `a..b` is harmless inside a name but reads like a path; keep dots single.
    let mut s = String::with_capacity(cleaned.len());
    for c in cleaned.chars() {
        if !(c == '.' && s.ends_with('.')) {
            s.push(c);
        }
    }
    let s = s.trim_matches(|c: char| c == '.' || c == ' ');
    let mut s = if s.is_empty() {
        String::from("export")
    } else {
        s.to_string()
    };
    let stem = s.split('.').next().unwrap_or_default();
    if is_reserved_on_windows(stem) {
        s.insert(0, '_');
    }
    cap(&s)
}

/// Replace separators and characters Windows refuses, drop control characters.
fn clean(part: &str) -> String {
    part.chars()
        .filter(|c| !c.is_control())
        .map(|c| match c {
            '/' | '\\' | ':' | '*' | '?' | '"' | '<' | '>' | '|' => '_',
            c => c,
        })
        .collect::<String>()
        .trim()
        .to_string()
}

/// `CON`, `PRN`, `AUX`, `NUL`, `COM0`-`COM9`, `LPT0`-`LPT9` (also with superscript digits),
/// `CONIN$`, `CONOUT$`: names Windows maps to devices whatever their extension.
fn is_reserved_on_windows(stem: &str) -> bool {
    let upper = stem.trim_end_matches(' ').to_ascii_uppercase();
    if matches!(
        upper.as_str(),
        "CON" | "PRN" | "AUX" | "NUL" | "CONIN$" | "CONOUT$"
    ) {
        return true;
    }
    let mut chars = upper.chars();
    let prefix: String = chars.by_ref().take(3).collect();
    let digit: Vec<char> = chars.collect();
    (prefix == "COM" || prefix == "LPT")
        && matches!(digit.as_slice(), [d] if d.is_ascii_digit() || "¹²³".contains(*d))
}

/// At most [`MAX_NAME_BYTES`], cut at a character boundary, keeping a short extension.
fn cap(name: &str) -> String {
    if name.len() <= MAX_NAME_BYTES {
        return name.to_string();
    }
    let (stem, ext) = match name.rsplit_once('.') {
        Some((stem, ext)) if !stem.is_empty() && ext.len() <= 8 => (stem, format!(".{ext}")),
        _ => (name, String::new()),
    };
    let mut end = MAX_NAME_BYTES - ext.len();
    while !stem.is_char_boundary(end) {
        end -= 1;
    }
    let stem = stem[..end].trim_end_matches(['.', ' ']);
    format!("{stem}{ext}")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn assert_safe(name: &str) {
        assert!(!name.is_empty());
        assert!(name.len() <= MAX_NAME_BYTES, "{name}: {} bytes", name.len());
        assert!(
            !name.contains(['/', '\\', ':', '*', '?', '"', '<', '>', '|']),
            "{name}"
        );
        assert!(!name.contains(".."), "{name}");
        assert!(!name.chars().any(char::is_control), "{name:?}");
        assert!(
            !name.starts_with('.') && !name.ends_with(['.', ' ']),
            "{name:?}"
        );
        let stem = name.split('.').next().unwrap_or_default();
        assert!(!is_reserved_on_windows(stem), "{name}");
        let joined = std::path::Path::new("/downloads").join(name);
        assert_eq!(
            joined.parent(),
            Some(std::path::Path::new("/downloads")),
            "{name}"
        );
    }

    #[test]
    fn ordinary_names_are_kept() {
        assert_eq!(
            file_name(None, "24h", "20261125-1700", "csv"),
            "bitaxe-24h-20261125-1700.csv"
        );
        assert_eq!(
            file_name(Some("office"), "7d", "20261125-1700", "png"),
            "bitaxe-office-7d-20261125-1700.png"
        );
        assert_eq!(sanitize("Büro Gamma.svg"), "Büro Gamma.svg");
    }

    #[test]
    fn path_separators_and_dot_dot_cannot_leave_the_folder() {
        for bad in [
            "../../etc/passwd",
            "..\\..\\Windows\\system.ini",
            "/etc/shadow",
            "..",
            ".",
            "...",
            "a/../../b.csv",
            "C:\\temp\\x.csv",
        ] {
            let s = sanitize(bad);
            assert_safe(&s);
        }
        assert_eq!(sanitize("../../etc/passwd"), "_._etc_passwd");
        assert_eq!(sanitize(".."), "export");
        let n = file_name(Some("../../x"), "../24h", "s", "../csv");
        assert_safe(&n);
        assert!(n.starts_with("bitaxe-"), "{n}");
    }

    #[test]
    fn control_and_reserved_characters_go() {
        let s = sanitize("a\0b\nc\td\u{7f}e\u{9b}f<g>h|i?j*k\"l:m.csv");
        assert_eq!(s, "abcdef_g_h_i_j_k_l_m.csv");
        assert_safe(&s);
        assert_eq!(sanitize("name. . "), "name");
    }

    #[test]
    fn windows_device_names_are_prefixed() {
        for dev in [
            "CON",
            "con.csv",
            "Nul.png",
            "aux",
            "PRN.svg",
            "COM1.csv",
            "lpt9",
            "COM¹.txt",
            "CONOUT$.csv",
            "con .csv",
        ] {
            let s = sanitize(dev);
            assert!(s.starts_with('_'), "{dev} -> {s}");
            assert_safe(&s);
        }
        for fine in [
            "CONSOLE.csv",
            "COM10.csv",
            "nully.png",
            "bitaxe-con-24h.csv",
        ] {
            assert_eq!(sanitize(fine), fine);
        }
        assert_eq!(
            file_name(Some("CON"), "1h", "s", "csv"),
            "bitaxe-CON-1h-s.csv"
        );
        assert_eq!(file_name(None, "", "", "csv"), "bitaxe.csv");
    }

    #[test]
    fn long_names_are_capped_at_a_character_boundary_keeping_the_extension() {
        let long = format!("{}.csv", "ä".repeat(200));
        let s = sanitize(&long);
        assert_safe(&s);
        assert!(s.ends_with(".csv"), "{s}");
        let n = file_name(Some(&"m".repeat(500)), "24h", "20261125-1700", "png");
        assert_safe(&n);
        assert!(n.ends_with(".png") && n.starts_with("bitaxe-mmm"), "{n}");
        assert_eq!(sanitize(&"x".repeat(300)).len(), MAX_NAME_BYTES);
    }
}
