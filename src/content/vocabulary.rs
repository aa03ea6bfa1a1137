//! Vocabulary terms (content `vocabulary = [...]` lists and the user's
//! glossary) go into whisper's prompt, so each must be a short clean term.

/// One vocabulary entry: a term, a name or a short phrase.
pub const MAX_TERM_CHARS: usize = 60;

/// Why a vocabulary or glossary entry was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum TermError {
    #[error("the entry is empty")]
    Empty,
    #[error("the entry has {0} characters; keep a term under {MAX_TERM_CHARS} (a name, not a sentence)")]
    TooLong(usize),
}

/// An entry made safe for the prompt: control characters removed, spaces
/// collapsed. Empty or over-long entries are refused.
pub fn clean_term(raw: &str) -> Result<String, TermError> {
    let cleaned = clean_text(raw);
    let n = cleaned.chars().count();
    if n == 0 {
        Err(TermError::Empty)
    } else if n > MAX_TERM_CHARS {
        Err(TermError::TooLong(n))
    } else {
        Ok(cleaned)
    }
}

/// Control characters (and NUL, which whisper cannot take) out; runs of
/// white space become one space.
pub fn clean_text(text: &str) -> String {
    text.split(|c: char| c.is_whitespace() || c.is_control()).filter(|w| !w.is_empty()).collect::<Vec<_>>().join(" ")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn terms_are_cleaned_or_refused() {
        assert_eq!(clean_term("  Kafka\tConnect\u{0}\n"), Ok("Kafka Connect".to_owned()));
        assert_eq!(clean_term("\u{7}\u{1b} "), Err(TermError::Empty));
        assert_eq!(clean_term(&"y".repeat(61)), Err(TermError::TooLong(61)));
        assert_eq!(clean_term(&"é".repeat(60)).map(|t| t.chars().count()), Ok(60));
    }
}
