//! What an error's chain of causes holds, read by type (never from text).

/// The I/O error among the causes of `e` (not `e` itself), if there is one:
/// why a connection failed, below the client's own words.
pub(crate) fn io_cause<'a>(e: &'a (dyn std::error::Error + 'static)) -> Option<&'a std::io::Error> {
    let mut cause = e.source();
    while let Some(c) = cause {
        if let Some(io) = c.downcast_ref::<std::io::Error>() {
            return Some(io);
        }
        cause = c.source();
    }
    None
}
