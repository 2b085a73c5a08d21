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

/// A key written twice in one object (JSON keeps the last silently): its path and both lines.
#[derive(Debug, Clone, PartialEq)]
pub struct Duplicate {
    pub path: Vec<Seg>,
    pub first_line: usize,
    pub second_line: usize,
}

/// The first key that appears twice in one object, if any. `text` must be comment-free JSON that
/// already parsed (so nesting is bounded).
pub fn first_duplicate(text: &str) -> Option<Duplicate> {
    let mut scanner = Scanner {
        bytes: text.as_bytes(),
        pos: 0,
        line: 1,
    };
    let mut path = Vec::new();
    scanner.duplicates(&mut path).err()
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

    /// Walk the value here; `Err` at the first repeated key. Malformed text just ends the walk.
    fn duplicates(&mut self, path: &mut Vec<Seg>) -> Result<(), Duplicate> {
        match self.peek() {
            Some(b'{') => {
                self.pos += 1;
                let mut seen: Vec<(String, usize)> = Vec::new();
                loop {
                    match self.peek() {
                        Some(b'}') => {
                            self.pos += 1;
                            return Ok(());
                        }
                        None => return Ok(()),
                        Some(_) => {}
                    }
                    let line = self.line;
                    let Some(key) = self.string() else {
                        return Ok(());
                    };
                    path.push(Seg::Key(key.clone()));
                    if let Some((_, first_line)) = seen.iter().find(|(k, _)| *k == key) {
                        return Err(Duplicate {
                            path: path.clone(),
                            first_line: *first_line,
                            second_line: line,
                        });
                    }
                    seen.push((key, line));
                    self.duplicates(path)?;
                    path.pop();
                }
            }
            Some(b'[') => {
                self.pos += 1;
                let mut i = 0;
                loop {
                    match self.peek() {
                        Some(b']') => {
                            self.pos += 1;
                            return Ok(());
                        }
                        None => return Ok(()),
                        Some(_) => {}
                    }
                    path.push(Seg::Index(i));
                    self.duplicates(path)?;
                    path.pop();
                    i += 1;
                }
            }
            Some(_) => {
                let _ = self.skip_value();
                Ok(())
            }
            None => Ok(()),
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

    #[test]
    fn finds_a_key_written_twice_with_both_lines() {
        let text = "{\n \"miners\": [{\"name\": \"a\"}, {\"name\": \"b\",\n \"name\": \"c\"}],\n \"x\": 1\n}";
        let d = first_duplicate(text).expect("duplicate");
        assert_eq!(
            d.path,
            vec![
                Seg::Key("miners".into()),
                Seg::Index(1),
                Seg::Key("name".into())
            ]
        );
        assert_eq!((d.first_line, d.second_line), (2, 3));
        assert_eq!(
            first_duplicate("{\"a\": {\"a\": 1}, \"b\": [1, {\"a\": 2}]}"),
            None
        );
    }
}
