//! The lexer and recursive-descent parser of the label selector string grammar, giving
//! the same results and error messages as `labels.Parse`.

use crate::labels::{Operator, Requirement, SelectorError, key_error};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Token {
    EndOfString,
    ClosedPar,
    Comma,
    DoesNotExist,
    DoubleEquals,
    Equals,
    GreaterThan,
    Identifier,
    In,
    LessThan,
    NotEquals,
    NotIn,
    OpenPar,
}

fn keyword(s: &str) -> Option<Token> {
    Some(match s {
        ")" => Token::ClosedPar,
        "," => Token::Comma,
        "!" => Token::DoesNotExist,
        "==" => Token::DoubleEquals,
        "=" => Token::Equals,
        ">" => Token::GreaterThan,
        "in" => Token::In,
        "<" => Token::LessThan,
        "!=" => Token::NotEquals,
        "notin" => Token::NotIn,
        "(" => Token::OpenPar,
        _ => return None,
    })
}

fn is_whitespace(c: u8) -> bool {
    matches!(c, b' ' | b'\t' | b'\r' | b'\n')
}

fn is_special(c: u8) -> bool {
    matches!(c, b'=' | b'!' | b'(' | b')' | b',' | b'>' | b'<')
}

/// Splits the input into tokens; the last is always `EndOfString`.
fn scan(s: &str) -> Vec<(Token, &str)> {
    let b = s.as_bytes();
    let mut out = Vec::new();
    let mut pos = 0;
    loop {
        while pos < b.len() && is_whitespace(b[pos]) {
            pos += 1;
        }
        // Go's lexer reads a NUL byte as its end-of-input marker.
        if pos >= b.len() || b[pos] == 0 {
            out.push((Token::EndOfString, ""));
            return out;
        }
        let start = pos;
        if is_special(b[pos]) {
            // Longest run of special characters that still forms a token: `!=` over `!`.
            let mut best = None;
            let mut nul_at = None;
            while pos < b.len() && is_special(b[pos]) {
                pos += 1;
                match keyword(&s[start..pos]) {
                    Some(t) => best = Some((t, pos)),
                    None if best.is_some() => break,
                    None => {}
                }
            }
            // Every single special character is a token, so `best` is always set.
            if best.is_some_and(|(_, end)| end == pos) && b.get(pos) == Some(&0) {
                nul_at = Some(pos);
            }
            let (tok, end) = best.unwrap_or((Token::EndOfString, pos));
            // A NUL ending the run is consumed, as Go's `read` consumes it without `unread`.
            pos = nul_at.map_or(end, |n| n + 1);
            out.push((tok, &s[start..end]));
        } else {
            while pos < b.len() && !is_special(b[pos]) && !is_whitespace(b[pos]) && b[pos] != 0 {
                pos += 1;
            }
            let lit = &s[start..pos];
            if b.get(pos) == Some(&0) {
                pos += 1;
            }
            out.push((keyword(lit).unwrap_or(Token::Identifier), lit));
        }
    }
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum Context {
    KeyAndOperator,
    /// Where `in` and `notin` are plain identifiers (keys and values).
    Values,
}

struct Parser<'a> {
    items: Vec<(Token, &'a str)>,
    position: usize,
}

fn err(msg: String) -> SelectorError {
    SelectorError::Parse(msg)
}

impl<'a> Parser<'a> {
    fn peek(&self, ctx: Context) -> (Token, &'a str) {
        let (tok, lit) = self
            .items
            .get(self.position)
            .copied()
            .unwrap_or((Token::EndOfString, ""));
        match tok {
            Token::In | Token::NotIn if ctx == Context::Values => (Token::Identifier, lit),
            _ => (tok, lit),
        }
    }

    fn next(&mut self, ctx: Context) -> (Token, &'a str) {
        let item = self.peek(ctx);
        self.position += 1;
        item
    }

    fn parse(&mut self) -> Result<Vec<Requirement>, SelectorError> {
        let mut reqs = Vec::new();
        loop {
            let (tok, lit) = self.peek(Context::Values);
            match tok {
                Token::Identifier | Token::DoesNotExist => {
                    let r = self
                        .requirement()
                        .map_err(|e| err(format!("unable to parse requirement: {e}")))?;
                    reqs.push(r);
                    let (t, l) = self.next(Context::Values);
                    match t {
                        Token::EndOfString => return Ok(reqs),
                        Token::Comma => {
                            let (t2, l2) = self.peek(Context::Values);
                            if t2 != Token::Identifier && t2 != Token::DoesNotExist {
                                return Err(err(format!(
                                    "found '{l2}', expected: identifier after ','"
                                )));
                            }
                        }
                        _ => {
                            return Err(err(format!(
                                "found '{l}', expected: ',' or 'end of string'"
                            )));
                        }
                    }
                }
                Token::EndOfString => return Ok(reqs),
                _ => {
                    return Err(err(format!(
                        "found '{lit}', expected: !, identifier, or 'end of string'"
                    )));
                }
            }
        }
    }

    fn requirement(&mut self) -> Result<Requirement, SelectorError> {
        let (key, inferred) = self.key_and_inferred_operator()?;
        if let Some(op) = inferred {
            return Requirement::new(key, op, Vec::new(), None);
        }
        let op = self.operator()?;
        let values = match op {
            Operator::In | Operator::NotIn => self.values()?,
            _ => self.exact_value()?,
        };
        Requirement::new(key, op, values, None)
    }

    fn key_and_inferred_operator(&mut self) -> Result<(&'a str, Option<Operator>), SelectorError> {
        let (mut tok, mut lit) = self.next(Context::Values);
        let mut op = None;
        if tok == Token::DoesNotExist {
            op = Some(Operator::DoesNotExist);
            (tok, lit) = self.next(Context::Values);
        }
        if tok != Token::Identifier {
            return Err(err(format!("found '{lit}', expected: identifier")));
        }
        if let Some(e) = key_error(lit) {
            return Err(e);
        }
        let (t, _) = self.peek(Context::Values);
        if (t == Token::EndOfString || t == Token::Comma) && op.is_none() {
            op = Some(Operator::Exists);
        }
        Ok((lit, op))
    }

    fn operator(&mut self) -> Result<Operator, SelectorError> {
        let (tok, lit) = self.next(Context::KeyAndOperator);
        Ok(match tok {
            Token::In => Operator::In,
            Token::Equals => Operator::Equals,
            Token::DoubleEquals => Operator::DoubleEquals,
            Token::GreaterThan => Operator::GreaterThan,
            Token::LessThan => Operator::LessThan,
            Token::NotIn => Operator::NotIn,
            Token::NotEquals => Operator::NotEquals,
            _ => {
                return Err(err(format!(
                    "found '{lit}', expected: in, notin, =, ==, !=, gt, lt"
                )));
            }
        })
    }

    /// `(a,b)`, returned sorted and unique as Go's string set lists them.
    fn values(&mut self) -> Result<Vec<String>, SelectorError> {
        let (tok, lit) = self.next(Context::Values);
        if tok != Token::OpenPar {
            return Err(err(format!("found '{lit}' expected: '('")));
        }
        let (tok, lit) = self.peek(Context::Values);
        let mut set = match tok {
            Token::Identifier | Token::Comma => {
                let s = self.identifiers()?;
                if self.next(Context::Values).0 != Token::ClosedPar {
                    return Err(err(format!("found '{lit}', expected: ')'")));
                }
                s
            }
            Token::ClosedPar => {
                self.next(Context::Values);
                vec![String::new()]
            }
            _ => {
                return Err(err(format!(
                    "found '{lit}', expected: ',', ')' or identifier"
                )));
            }
        };
        set.sort_unstable();
        set.dedup();
        Ok(set)
    }

    /// A comma list where empty entries (`(,a)`, `(a,)`, `(a,,b)`) stand for `""`.
    fn identifiers(&mut self) -> Result<Vec<String>, SelectorError> {
        let mut s: Vec<String> = Vec::new();
        loop {
            let (tok, lit) = self.next(Context::Values);
            match tok {
                Token::Identifier => {
                    s.push(lit.to_string());
                    let (t2, l2) = self.peek(Context::Values);
                    match t2 {
                        Token::Comma => {}
                        Token::ClosedPar => return Ok(s),
                        _ => return Err(err(format!("found '{l2}', expected: ',' or ')'"))),
                    }
                }
                Token::Comma => {
                    if s.is_empty() {
                        s.push(String::new());
                    }
                    match self.peek(Context::Values).0 {
                        Token::ClosedPar => {
                            s.push(String::new());
                            return Ok(s);
                        }
                        Token::Comma => s.push(String::new()),
                        _ => {}
                    }
                }
                _ => return Err(err(format!("found '{lit}', expected: ',', or identifier"))),
            }
        }
    }

    fn exact_value(&mut self) -> Result<Vec<String>, SelectorError> {
        let (tok, _) = self.peek(Context::Values);
        if tok == Token::EndOfString || tok == Token::Comma {
            return Ok(vec![String::new()]);
        }
        let (tok, lit) = self.next(Context::Values);
        if tok == Token::Identifier {
            Ok(vec![lit.to_string()])
        } else {
            Err(err(format!("found '{lit}', expected: identifier")))
        }
    }
}

/// Parses a selector string into its requirements, in source order.
pub(crate) fn parse(s: &str) -> Result<Vec<Requirement>, SelectorError> {
    Parser {
        items: scan(s),
        position: 0,
    }
    .parse()
}
