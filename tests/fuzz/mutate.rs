//! The mutation engine: from one input file, a mutant, by one to four of
//! byte flips, line operations, type swaps, boundary numbers and YAML
//! features, all drawn from one seeded generator so that a seed and a case
//! number give the same mutant on every machine.

use fastrand::Rng;

/// Numbers at the edges of the types gwlab reads them into, and past them.
const BOUNDARY_NUMBERS: &[&str] = &[
    "0",
    "-1",
    "1",
    "255",
    "256",
    "599",
    "600",
    "65535",
    "65536",
    "65838",
    "1000000",
    "1000001",
    "2147483647",
    "2147483648",
    "4294967295",
    "4294967296",
    "42949673",
    "4000000000",
    "9223372036854775807",
    "18446744073709551615",
    "18446744073709551616",
    "99999999999999999999",
    "1e400",
    "-0",
    "0x10",
    "1_000",
    "0o17",
    ".inf",
    "-.inf",
    ".nan",
    "3.5",
    "1e3",
];

/// Values of other YAML types than the one usually written.
const TYPE_SWAPS: &[&str] = &[
    "\"308\"",
    "'1'",
    "true",
    "no",
    "null",
    "~",
    "[]",
    "{}",
    "[1, 2]",
    "{a: 1}",
    "\"\"",
    "''",
    "-",
    "|\n  block",
    ">\n  folded",
    "18446744073709551615s1s",
    "5124095576030432h",
    "1h",
    "0s",
    "2h",
    "api",
    "//",
    "/a/../b",
    "http://",
    "*.",
    "UPPER_Case",
    "a/b",
    "GET,FOO",
];

/// YAML features: anchors, aliases, tags, merges, markers, odd bytes.
const YAML_BITS: &[&str] = &[
    "&a ",
    "*a",
    "!foo ",
    "!!str ",
    "!!int ",
    "!!binary ",
    "!<tag:example.com,2000:x> ",
    "<<: *a",
    "? ",
    "---",
    "...",
    "%YAML 1.2",
    "#",
    "\t",
    "\u{feff}",
    "\u{0}",
    "\r",
    "\\",
    "\"",
    "'",
    "{",
    "[",
    "@",
    "`",
];

/// Bytes a byte flip writes.
const BYTES: &[u8] = b" :-{}[],#&*!|>'\"%@`\t\n\r\0\xff\xfe/.~?0123456789aZ";

/// One to four mutations of `input`.
pub fn mutate(input: &[u8], donors: &[&[u8]], rng: &mut Rng) -> Vec<u8> {
    let mut out = input.to_vec();
    // Mostly one mutation, so that many mutants still get past the parser
    // into the checks behind it.
    let count = match rng.u8(0..10) {
        0..5 => 1,
        5..8 => 2,
        _ => rng.usize(3..=4),
    };
    for _ in 0..count {
        out = match rng.u8(0..100) {
            0..15 => byte_flip(&out, rng),
            15..35 => line_op(&out, rng),
            35..55 => replace_value(&out, pick(TYPE_SWAPS, rng).as_bytes(), rng),
            55..72 => replace_number(&out, rng),
            72..88 => yaml_feature(&out, rng),
            88..94 => big(&out, rng),
            _ => splice(&out, donors, rng),
        };
    }
    out
}

fn pick<'a>(list: &[&'a str], rng: &mut Rng) -> &'a str {
    list[rng.usize(..list.len())]
}

/// Lines with their endings.
fn lines(text: &[u8]) -> Vec<Vec<u8>> {
    text.split_inclusive(|b| *b == b'\n')
        .map(<[u8]>::to_vec)
        .collect()
}

fn byte_flip(text: &[u8], rng: &mut Rng) -> Vec<u8> {
    let mut out = text.to_vec();
    if out.is_empty() {
        return vec![BYTES[rng.usize(..BYTES.len())]];
    }
    let at = rng.usize(..out.len());
    match rng.u8(0..3) {
        0 => out[at] = BYTES[rng.usize(..BYTES.len())],
        1 => out.insert(at, BYTES[rng.usize(..BYTES.len())]),
        _ => {
            out.remove(at);
        }
    }
    out
}

/// Deletes, duplicates, swaps or re-indents lines.
fn line_op(text: &[u8], rng: &mut Rng) -> Vec<u8> {
    let mut ls = lines(text);
    if ls.is_empty() {
        return text.to_vec();
    }
    let i = rng.usize(..ls.len());
    match rng.u8(0..6) {
        0 => {
            ls.remove(i);
        }
        1 => {
            let l = ls[i].clone();
            ls.insert(i, l);
        }
        2 => {
            let j = rng.usize(..ls.len());
            ls.swap(i, j);
        }
        3 => {
            ls[i].splice(0..0, *b"  ");
        }
        4 => {
            if ls[i].starts_with(b"  ") {
                ls[i].drain(..2);
            }
        }
        _ => {
            // A line moved elsewhere, keeping its text.
            let l = ls.remove(i);
            let j = rng.usize(..=ls.len());
            ls.insert(j, l);
        }
    }
    ls.concat()
}

/// The value after a `key: ` on a random line, replaced by `value`.
fn replace_value(text: &[u8], value: &[u8], rng: &mut Rng) -> Vec<u8> {
    let mut ls = lines(text);
    let with_value: Vec<usize> = (0..ls.len())
        .filter(|i| find(&ls[*i], b": ").is_some())
        .collect();
    if with_value.is_empty() {
        return text.to_vec();
    }
    let i = with_value[rng.usize(..with_value.len())];
    let start = find(&ls[i], b": ").unwrap_or(0) + 2;
    let end = ls[i]
        .iter()
        .rposition(|b| !matches!(b, b'\n' | b'\r'))
        .map_or(ls[i].len(), |p| p + 1)
        .max(start);
    // In a flow mapping, only up to the next `,` or `}`.
    let end = ls[i][start..end]
        .iter()
        .position(|b| matches!(b, b',' | b'}' | b']'))
        .map_or(end, |p| start + p);
    ls[i].splice(start..end, value.iter().copied());
    ls.concat()
}

/// A run of digits replaced by a boundary number.
fn replace_number(text: &[u8], rng: &mut Rng) -> Vec<u8> {
    let runs: Vec<(usize, usize)> = digit_runs(text);
    if runs.is_empty() {
        return replace_value(text, pick(BOUNDARY_NUMBERS, rng).as_bytes(), rng);
    }
    let (s, e) = runs[rng.usize(..runs.len())];
    let mut out = text.to_vec();
    out.splice(s..e, pick(BOUNDARY_NUMBERS, rng).bytes());
    out
}

fn digit_runs(text: &[u8]) -> Vec<(usize, usize)> {
    let mut runs = Vec::new();
    let mut i = 0;
    while i < text.len() {
        if text[i].is_ascii_digit() {
            let s = i;
            while i < text.len() && text[i].is_ascii_digit() {
                i += 1;
            }
            runs.push((s, i));
        } else {
            i += 1;
        }
    }
    runs
}

/// An anchor, alias, tag, marker or odd byte put somewhere; or the whole
/// text with a BOM, CRLF line ends or tabs.
fn yaml_feature(text: &[u8], rng: &mut Rng) -> Vec<u8> {
    match rng.u8(0..10) {
        0 => [b"\xef\xbb\xbf".as_slice(), text].concat(),
        1 => text
            .iter()
            .flat_map(|b| {
                if *b == b'\n' {
                    vec![b'\r', b'\n']
                } else {
                    vec![*b]
                }
            })
            .collect(),
        2 => {
            // An anchored value and an alias to it elsewhere.
            let anchored = replace_value(text, b"&a {x: 1}", rng);
            replace_value(&anchored, b"*a", rng)
        }
        3 => replace_value(
            text,
            format!("!foo {}", pick(TYPE_SWAPS, rng)).as_bytes(),
            rng,
        ),
        _ => {
            let mut out = text.to_vec();
            let at = if out.is_empty() {
                0
            } else {
                rng.usize(..=out.len())
            };
            out.splice(at..at, pick(YAML_BITS, rng).bytes());
            out
        }
    }
}

/// Size: deep nesting, a long value, many copies of a line.
fn big(text: &[u8], rng: &mut Rng) -> Vec<u8> {
    match rng.u8(0..3) {
        0 => {
            let depth = rng.usize(50..2000);
            let nested = format!("{}1{}", "[".repeat(depth), "]".repeat(depth));
            replace_value(text, nested.as_bytes(), rng)
        }
        1 => {
            let long = "x".repeat(rng.usize(1_000..200_000));
            replace_value(text, long.as_bytes(), rng)
        }
        _ => {
            let mut ls = lines(text);
            if ls.is_empty() {
                return text.to_vec();
            }
            let i = rng.usize(..ls.len());
            let l = ls[i].clone();
            for _ in 0..rng.usize(10..500) {
                ls.insert(i, l.clone());
            }
            ls.concat()
        }
    }
}

/// A line of another input put into this one.
fn splice(text: &[u8], donors: &[&[u8]], rng: &mut Rng) -> Vec<u8> {
    if donors.is_empty() {
        return text.to_vec();
    }
    let donor = lines(donors[rng.usize(..donors.len())]);
    let mut ls = lines(text);
    if donor.is_empty() {
        return text.to_vec();
    }
    let line = donor[rng.usize(..donor.len())].clone();
    let at = rng.usize(..=ls.len());
    ls.insert(at, line);
    ls.concat()
}

fn find(hay: &[u8], needle: &[u8]) -> Option<usize> {
    hay.windows(needle.len()).position(|w| w == needle)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_seed_gives_the_same_mutants() {
        let input = b"name: a\nport: 8080\nlist: [1, 2]\n";
        let run = |seed| {
            let mut rng = Rng::with_seed(seed);
            (0..50)
                .map(|_| mutate(input, &[b"x: y\n"], &mut rng))
                .collect::<Vec<_>>()
        };
        assert_eq!(run(7), run(7));
        assert_ne!(run(7), run(8));
        assert!(run(7).iter().any(|m| m.as_slice() != input.as_slice()));
    }

    #[test]
    fn values_are_replaced_after_their_key() {
        let mut rng = Rng::with_seed(1);
        let out = replace_value(b"port: 8080\n", b"[]", &mut rng);
        assert_eq!(out, b"port: []\n");
        let out = replace_value(b"a: {b: 1, c: 2}\n", b"x", &mut rng);
        assert_eq!(out, b"a: x, c: 2}\n");
    }
}
