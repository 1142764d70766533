//! Just enough of Python's pickle format to read CIFAR's batch files: a dict of byte strings,
//! integer lists and one NumPy array (pickled as `numpy.core.multiarray._reconstruct` plus a
//! `BUILD` state holding the raw bytes). Nothing is executed: globals are names only, and only
//! NumPy's array and dtype reconstruction is understood.

use crate::error::{Error, Result};

/// A decoded pickle value.
#[derive(Clone, Debug, PartialEq)]
pub enum Value {
    None,
    Bool(bool),
    Int(i64),
    /// Python 2 `str` and Python 3 `bytes` (what `encoding="bytes"` gives) and `str`.
    Bytes(Vec<u8>),
    List(Vec<Value>),
    /// A list whose items are all integers, kept compact (IMDB's reviews: millions of word ids).
    Ints(Vec<i64>),
    Tuple(Vec<Value>),
    Dict(Vec<(Value, Value)>),
    /// `module.name`, not resolved.
    Global(String),
    /// A callable applied to arguments (`REDUCE`), not called.
    Reduced(String, Box<Value>),
    /// A NumPy array: its shape, dtype string (`u1`, `<i8`, ...) and raw C-order bytes.
    NdArray {
        shape: Vec<usize>,
        dtype: String,
        data: Vec<u8>,
    },
    /// A NumPy object array (dtype `O`): its shape and its items, pickled one by one.
    Objects {
        shape: Vec<usize>,
        items: Vec<Value>,
    },
}

impl Value {
    /// The value under key `name` of a dict with byte-string keys.
    pub fn get(&self, name: &str) -> Option<&Value> {
        let Value::Dict(items) = self else { return None };
        items.iter().find(|(k, _)| matches!(k, Value::Bytes(b) if b == name.as_bytes())).map(|(_, v)| v)
    }
}

/// A byte reader over the pickle.
struct Input<'a> {
    b: &'a [u8],
    pos: usize,
}

impl Input<'_> {
    fn take(&mut self, n: usize) -> std::result::Result<&[u8], String> {
        let end = self.pos.checked_add(n).filter(|&e| e <= self.b.len()).ok_or("the pickle ends early")?;
        let s = &self.b[self.pos..end];
        self.pos = end;
        Ok(s)
    }
    fn uint(&mut self, n: usize) -> std::result::Result<u64, String> {
        Ok(self.take(n)?.iter().rev().fold(0u64, |a, &b| (a << 8) | b as u64))
    }
    fn line(&mut self) -> std::result::Result<String, String> {
        let rest = &self.b[self.pos..];
        let n = rest.iter().position(|&c| c == b'\n').ok_or("the pickle ends early")?;
        let s = String::from_utf8_lossy(&rest[..n]).into_owned();
        self.pos += n + 1;
        Ok(s)
    }
}

/// Decodes a whole pickle; `what` names it in errors.
pub fn parse(bytes: &[u8], what: &std::path::Path) -> Result<Value> {
    run(bytes).map_err(|e| Error::format(what, format!("cannot read the pickle: {e}")))
}

fn run(bytes: &[u8]) -> std::result::Result<Value, String> {
    let mut inp = Input { b: bytes, pos: 0 };
    let mut stack: Vec<Value> = Vec::new();
    let mut marks: Vec<usize> = Vec::new();
    let mut memo: std::collections::HashMap<u64, Value> = Default::default();
    let pop = |s: &mut Vec<Value>| s.pop().ok_or_else(|| "stack underflow".to_string());
    loop {
        let op = inp.take(1)?[0];
        match op {
            0x80 => drop(inp.take(1)?),      // PROTO
            0x95 => drop(inp.take(8)?),      // FRAME
            b'.' => return pop(&mut stack),  // STOP
            b'(' => marks.push(stack.len()), // MARK
            b'N' => stack.push(Value::None),
            0x88 => stack.push(Value::Bool(true)),
            0x89 => stack.push(Value::Bool(false)),
            b'K' => stack.push(Value::Int(inp.uint(1)? as i64)),
            b'M' => stack.push(Value::Int(inp.uint(2)? as i64)),
            b'J' => stack.push(Value::Int(inp.uint(4)? as u32 as i32 as i64)),
            0x8a => {
                // LONG1: little-endian two's complement of n bytes.
                let n = inp.uint(1)? as usize;
                let raw = inp.take(n)?;
                let v = raw.iter().rev().fold(0i128, |a, &b| (a << 8) | b as i128);
                let v = if n > 0 && raw[n - 1] & 0x80 != 0 { v - (1i128 << (8 * n)) } else { v };
                stack.push(Value::Int(i64::try_from(v).map_err(|_| "integer too large")?));
            }
            b'U' | b'C' | 0x8c => {
                let n = inp.uint(1)? as usize;
                stack.push(Value::Bytes(inp.take(n)?.to_vec()));
            }
            b'T' | b'B' | b'X' => {
                let n = inp.uint(4)? as usize;
                stack.push(Value::Bytes(inp.take(n)?.to_vec()));
            }
            b'c' => {
                let (module, name) = (inp.line()?, inp.line()?);
                stack.push(Value::Global(format!("{module}.{name}")));
            }
            b'q' => drop(memo.insert(inp.uint(1)?, stack.last().cloned().ok_or("stack underflow")?)),
            b'r' => drop(memo.insert(inp.uint(4)?, stack.last().cloned().ok_or("stack underflow")?)),
            0x94 => drop(memo.insert(memo.len() as u64, stack.last().cloned().ok_or("stack underflow")?)),
            b'h' | b'j' => {
                let k = inp.uint(if op == b'h' { 1 } else { 4 })?;
                stack.push(memo.get(&k).cloned().ok_or(format!("memo entry {k} is missing"))?);
            }
            b'}' => stack.push(Value::Dict(Vec::new())),
            b']' => stack.push(Value::List(Vec::new())),
            b')' => stack.push(Value::Tuple(Vec::new())),
            0x85..=0x87 => {
                let n = (op - 0x84) as usize;
                let at = stack.len().checked_sub(n).ok_or("stack underflow")?;
                let items = stack.split_off(at);
                stack.push(Value::Tuple(items));
            }
            b't' | b'e' | b'u' | b'a' | b's' => collect(op, &mut stack, &mut marks)?,
            b'R' => {
                let args = pop(&mut stack)?;
                match pop(&mut stack)? {
                    Value::Global(name) => stack.push(Value::Reduced(name, Box::new(args))),
                    _ => return Err("REDUCE of something that is not a global".into()),
                }
            }
            b'b' => {
                let state = pop(&mut stack)?;
                let obj = pop(&mut stack)?;
                stack.push(build(obj, state)?);
            }
            _ => return Err(format!("unsupported opcode 0x{op:02x} at byte {}", inp.pos - 1)),
        }
    }
}

/// `TUPLE`, `APPENDS`, `SETITEMS` (back to the last mark) and `APPEND`, `SETITEM` (the last one
/// or two values): gathers the items into a tuple, or into the list or dict below them.
fn collect(op: u8, stack: &mut Vec<Value>, marks: &mut Vec<usize>) -> std::result::Result<(), String> {
    let at = match op {
        b'a' => stack.len().checked_sub(1),
        b's' => stack.len().checked_sub(2),
        _ => marks.pop(),
    }
    .ok_or("stack underflow")?;
    let items = stack.split_off(at.min(stack.len()));
    if op == b't' {
        stack.push(Value::Tuple(items));
        return Ok(());
    }
    match (stack.last_mut(), op) {
        (Some(last @ Value::List(_)), b'e' | b'a') if items.iter().all(|v| matches!(v, Value::Int(_))) => {
            let ints = items.into_iter().map(|v| if let Value::Int(i) = v { i } else { 0 });
            match last {
                Value::List(l) if l.is_empty() => *last = Value::Ints(ints.collect()),
                Value::List(l) => l.extend(ints.map(Value::Int)),
                _ => unreachable!("matched a list"),
            }
        }
        (Some(Value::Ints(l)), b'e' | b'a') if items.iter().all(|v| matches!(v, Value::Int(_))) => {
            l.extend(items.into_iter().map(|v| if let Value::Int(i) = v { i } else { 0 }))
        }
        (Some(last @ Value::Ints(_)), b'e' | b'a') => {
            let Value::Ints(ints) = std::mem::replace(last, Value::None) else { unreachable!("matched") };
            *last = Value::List(ints.into_iter().map(Value::Int).chain(items).collect());
        }
        (Some(Value::List(l)), b'e' | b'a') => l.extend(items),
        (Some(Value::Dict(d)), b'u' | b's') => {
            let mut it = items.into_iter();
            while let (Some(k), Some(v)) = (it.next(), it.next()) {
                d.push((k, v));
            }
        }
        _ => return Err(format!("opcode {:?} applied to the wrong kind of value", op as char)),
    }
    Ok(())
}

/// `BUILD`: NumPy's array state `(version, shape, dtype, is_fortran, data)` makes an array;
/// a dtype's state is dropped (its string says all CIFAR needs).
fn build(obj: Value, state: Value) -> std::result::Result<Value, String> {
    match (&obj, state) {
        (Value::Reduced(name, _), Value::Tuple(s)) if name.ends_with("multiarray._reconstruct") && s.len() == 5 => {
            let shape = match &s[1] {
                Value::Tuple(d) => d.iter().map(|v| match v {
                    Value::Int(i) if *i >= 0 => Ok(*i as usize),
                    _ => Err("bad array shape".to_string()),
                }),
                _ => return Err("bad array shape".into()),
            }
            .collect::<std::result::Result<Vec<_>, _>>()?;
            let dtype = match &s[2] {
                Value::Reduced(n, args) if n == "numpy.dtype" => match args.as_ref() {
                    Value::Tuple(a) => match a.first() {
                        Some(Value::Bytes(d)) => String::from_utf8_lossy(d).into_owned(),
                        _ => return Err("bad dtype".into()),
                    },
                    _ => return Err("bad dtype".into()),
                },
                _ => return Err("bad dtype".into()),
            };
            if s[3] != Value::Bool(false) && s[3] != Value::Int(0) {
                return Err("Fortran-ordered arrays are not supported here".into());
            }
            match &s[4] {
                Value::Bytes(data) => Ok(Value::NdArray { shape, dtype, data: data.clone() }),
                Value::List(_) | Value::Ints(_) if dtype.starts_with('O') => {
                    let Some(Value::List(items)) = s.into_iter().nth(4) else {
                        return Err("an object array's items are not a list of objects".into());
                    };
                    Ok(Value::Objects { shape, items })
                }
                _ => Err("array data is not a byte string".into()),
            }
        }
        (Value::Reduced(name, _), _) if name == "numpy.dtype" => Ok(obj),
        _ => Err("BUILD of an object other than a NumPy array or dtype".into()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_protocol_2_values_and_refuses_the_rest() {
        // {b"a": [1, -2, 300], b"b": (True, None)} in protocol 2 (-2 as a LONG1).
        let p = b"\x80\x02}q\x00(U\x01aq\x01]q\x02(K\x01\x8a\x01\xfeM,\x01eU\x01b\x88N\x86u.";
        let v = parse(p, std::path::Path::new("p")).unwrap();
        assert_eq!(v.get("a"), Some(&Value::Ints(vec![1, -2, 300])));
        assert_eq!(v.get("b"), Some(&Value::Tuple(vec![Value::Bool(true), Value::None])));
        // A call is recorded, never made.
        let v = parse(b"\x80\x02cos\nsystem\nq\x00X\x02\x00\x00\x00lsq\x01\x85R.", std::path::Path::new("p"));
        let args = Value::Tuple(vec![Value::Bytes(b"ls".to_vec())]);
        assert_eq!(v.unwrap(), Value::Reduced("os.system".into(), Box::new(args)));
        let e = parse(b"\x80\x02d.", std::path::Path::new("p")).unwrap_err().to_string();
        assert_eq!(e, "p: cannot read the pickle: unsupported opcode 0x64 at byte 2");
        let e = parse(b"\x80\x02U\x05ab", std::path::Path::new("p")).unwrap_err().to_string();
        assert_eq!(e, "p: cannot read the pickle: the pickle ends early");
    }
}
