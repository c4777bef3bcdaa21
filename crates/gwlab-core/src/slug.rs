//! Names for Kubernetes objects and scenarios made from free text: a file
//! or directory name, an Ingress path.

/// `text` in lower case with every run of characters other than ASCII letters
/// and digits as `-`, trimmed of `-` at either end (empty when nothing is
/// left).
pub fn slug(text: &str) -> String {
    text.chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() {
                c.to_ascii_lowercase()
            } else {
                '-'
            }
        })
        .collect::<String>()
        .trim_matches('-')
        .to_string()
}

#[cfg(test)]
mod tests {
    #[test]
    fn a_slug_keeps_letters_and_digits_in_lower_case() {
        assert_eq!(super::slug("My Route_2/"), "my-route-2");
        assert_eq!(super::slug("(.)"), "");
    }
}
