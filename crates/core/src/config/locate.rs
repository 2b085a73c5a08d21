//! Find the line of a value in JSON text by its key path, so validation errors can name the line.

/// One step of a key path: an object key or an array index.
#[derive(Debug, Clone, PartialEq)]
pub enum Seg {
    Key(String),
    Index(usize),
}

/// The 1-based line where the value at `path` starts, if the text has it. `text` must already be
/// free of comments (comments replaced by spaces keep line numbers intact).
pub fn line_of(text: &str, path: &[Seg]) -> Option<usize> {
    let mut scanner = Scanner {
        bytes: text.as_bytes(),
        pos: 0,
        line: 1,
    };
    scanner.find(path)
}

struct Scanner<'a> {
    bytes: &'a [u8],
    pos: usize,
    line: usize,
}

impl Scanner<'_> {
    fn peek(&mut self) -> Option<u8> {
        while let Some(&b) = self.bytes.get(self.pos) {
            if b == b'\n' {
                self.line += 1;
            }
            if b.is_ascii_whitespace() || b == b',' || b == b':' {
                self.pos += 1;
            } else {
                return Some(b);
            }
        }
        None
    }

    /// Find `path` inside the value starting here.
    fn find(&mut self, path: &[Seg]) -> Option<usize> {
        let first = self.peek()?;
        let Some((seg, rest)) = path.split_first() else {
            return Some(self.line);
        };
        match (first, seg) {
            (b'{', Seg::Key(want)) => {
                self.pos += 1;
                loop {
                    if self.peek()? == b'}' {
                        return None;
                    }
                    let key = self.string()?;
                    if &key == want {
                        return self.find(rest);
                    }
                    self.skip_value()?;
                }
            }
            (b'[', Seg::Index(want)) => {
                self.pos += 1;
                let mut i = 0;
                loop {
                    if self.peek()? == b']' {
                        return None;
                    }
                    if i == *want {
                        return self.find(rest);
                    }
                    self.skip_value()?;
                    i += 1;
                }
            }
            _ => None,
        }
    }

    fn string(&mut self) -> Option<String> {
        if self.peek()? != b'"' {
            return None;
        }
        self.pos += 1;
        let start = self.pos;
        while let Some(&b) = self.bytes.get(self.pos) {
            match b {
                b'\\' => self.pos += 2,
                b'"' => {
                    let s = String::from_utf8_lossy(&self.bytes[start..self.pos]).into_owned();
                    self.pos += 1;
                    return Some(s);
                }
                _ => self.pos += 1,
            }
        }
        None
    }

    fn skip_value(&mut self) -> Option<()> {
        match self.peek()? {
            b'"' => self.string().map(|_| ()),
            open @ (b'{' | b'[') => {
                let close = if open == b'{' { b'}' } else { b']' };
                self.pos += 1;
                loop {
                    if self.peek()? == close {
                        self.pos += 1;
                        return Some(());
                    }
                    self.skip_value()?;
                }
            }
            _ => {
                while let Some(&b) = self.bytes.get(self.pos) {
                    if b == b',' || b == b'}' || b == b']' || b.is_ascii_whitespace() {
                        break;
                    }
                    self.pos += 1;
                }
                Some(())
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn finds_nested_keys_and_indices() {
        let text = "{\n \"a\": 1,\n \"miners\": [\n  {\"name\": \"x\"},\n  {\n   \"name\": \"y\",\n   \"day_settings\": {\"voltage\": 1400}\n  }\n ]\n}";
        let path = [
            Seg::Key("miners".into()),
            Seg::Index(1),
            Seg::Key("day_settings".into()),
            Seg::Key("voltage".into()),
        ];
        assert_eq!(line_of(text, &path), Some(7));
        assert_eq!(line_of(text, &[Seg::Key("a".into())]), Some(2));
        assert_eq!(line_of(text, &[Seg::Key("zz".into())]), None);
    }
}
