//! Mock-interview content: the built-in mocks compiled into the binary, user
//! mock files from the data folder, and their validation.

mod load;
pub mod model;
pub mod vocabulary;

pub use load::{
    ContentError, Library, LoadedMock, MockSource, QuestionRef, check_file, load_builtin_rubric, question_id,
};
pub use model::*;

/// The built-in content files, compiled in so the app runs from any directory.
pub const BUILTIN_GUIDE: (&str, &str) = ("content/guide.toml", include_str!("../../content/guide.toml"));
pub const BUILTIN_RUBRIC: (&str, &str) = ("content/rubric.toml", include_str!("../../content/rubric.toml"));
pub const BUILTIN_MOCKS: [(&str, &str); 3] = [
    ("content/mock-1-phone-screen.toml", include_str!("../../content/mock-1-phone-screen.toml")),
    ("content/mock-2-system-design.toml", include_str!("../../content/mock-2-system-design.toml")),
    ("content/mock-3-behavioral.toml", include_str!("../../content/mock-3-behavioral.toml")),
];

/// The three levels' display names, in order of seniority.
pub const LEVELS: [&str; 4] = ["Junior", "Mid", "Senior", "Staff"];
