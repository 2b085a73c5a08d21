//! `//` and `/* */` comments blanked out of JSON text, byte for byte, so that the JSON parser and
//! `locate` see the same lines and columns as the user's editor.

/// A block comment that never ends: where it starts (1-based line and column).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Unterminated {
    pub line: usize,
    pub column: usize,
}

/// `text` with every comment replaced by spaces (newlines kept). Strings are left alone, even
/// unterminated ones: the JSON parser reports those with their place.
pub fn strip(text: &str) -> Result<String, Unterminated> {
    let bytes = text.as_bytes();
    let mut out = bytes.to_vec();
    let mut i = 0;
    let mut in_string = false;
    while i < bytes.len() {
        let b = bytes[i];
        if in_string {
            match b {
                b'\\' => i += 1,
                b'"' => in_string = false,
                _ => {}
            }
            i += 1;
            continue;
        }
        match (b, bytes.get(i + 1)) {
            (b'"', _) => {
                in_string = true;
                i += 1;
            }
            (b'/', Some(b'/')) => {
                while i < bytes.len() && bytes[i] != b'\n' {
                    blank(&mut out, i);
                    i += 1;
                }
            }
            (b'/', Some(b'*')) => {
                let start = i;
                let end = text[i + 2..].find("*/").map(|e| i + 2 + e + 2);
                let Some(end) = end else {
                    let before = &text[..start];
                    return Err(Unterminated {
                        line: before.matches('\n').count() + 1,
                        column: before.len() - before.rfind('\n').map_or(0, |n| n + 1) + 1,
                    });
                };
                for j in start..end {
                    blank(&mut out, j);
                }
                i = end;
            }
            _ => i += 1,
        }
    }
    // Only whole UTF-8 sequences inside comments were blanked, so this never loses anything.
    Ok(String::from_utf8_lossy(&out).into_owned())
}

/// Blank one byte of a comment, keeping line breaks (and `\r` of CRLF) where they are.
fn blank(out: &mut [u8], i: usize) {
    if !matches!(out[i], b'\n' | b'\r') {
        out[i] = b' ';
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn comments_become_spaces_and_strings_stay() {
        let text = "{\n \"a\": \"http://x\", // note é\n /* two\n lines */ \"b\": 1\n}";
        let plain = strip(text).expect("strip");
        assert_eq!(plain.len(), text.len());
        assert_eq!(plain.lines().count(), text.lines().count());
        assert!(plain.contains("\"http://x\""));
        let v: serde_json::Value = serde_json::from_str(&plain).expect("json");
        assert_eq!(v["b"], 1);
    }

    #[test]
    fn an_unterminated_block_comment_says_where_it_starts() {
        assert_eq!(
            strip("{\n  /* open"),
            Err(Unterminated { line: 2, column: 3 })
        );
        assert!(strip("\"/* in a string").is_ok());
    }
}
