//! Globs over tool names, for the allow, deny and approval lists of an MCP
//! server: `*` is any run of characters, `?` one character, everything
//! else itself (case-sensitive, as tool names are).

/// A parsed glob.
#[derive(Clone, Debug)]
pub struct Glob<'a> {
    pattern: &'a str,
}

impl<'a> Glob<'a> {
    pub fn new(pattern: &'a str) -> Self {
        Glob { pattern }
    }

    pub fn matches(&self, text: &str) -> bool {
        let pattern: Vec<char> = self.pattern.chars().collect();
        let text: Vec<char> = text.chars().collect();
        // Iterative matching with one backtrack point (the last `*`): linear
        // in practice, and never exponential.
        let (mut p, mut t) = (0, 0);
        let mut star: Option<(usize, usize)> = None;
        while t < text.len() {
            match pattern.get(p) {
                Some('*') => {
                    star = Some((p, t));
                    p += 1;
                }
                Some('?') => {
                    p += 1;
                    t += 1;
                }
                Some(c) if *c == text[t] => {
                    p += 1;
                    t += 1;
                }
                _ => match star {
                    Some((star_p, star_t)) => {
                        p = star_p + 1;
                        t = star_t + 1;
                        star = Some((star_p, star_t + 1));
                    }
                    None => return false,
                },
            }
        }
        pattern[p..].iter().all(|c| *c == '*')
    }
}

#[cfg(test)]
mod tests {
    use super::Glob;

    #[test]
    fn stars_and_question_marks() {
        let cases = [
            ("*", "anything", true),
            ("*", "", true),
            ("echo", "echo", true),
            ("echo", "echoes", false),
            ("get_*", "get_weather", true),
            ("get_*", "set_weather", false),
            ("*_file", "read_file", true),
            ("*_file", "read_files", false),
            ("a?c", "abc", true),
            ("a?c", "ac", false),
            ("*a*b*", "xxaxxbxx", true),
            ("*a*b*", "xxbxxaxx", false),
            ("Echo", "echo", false),
        ];
        for (pattern, text, expected) in cases {
            assert_eq!(Glob::new(pattern).matches(text), expected, "{pattern} ~ {text}");
        }
    }
}
