#![doc = include_str!("../README.md")]
#![warn(missing_docs)]

pub mod analysis;
pub mod charts;
pub mod compare;
pub mod error;
pub mod frame;
pub mod html;
pub mod ingest_summary;
pub mod memory;
pub mod prices;
pub mod probe;
pub mod record_summary;
pub mod records;
pub mod release;
pub mod release_charts;
pub mod release_html;
pub mod report;
pub mod table;
pub mod units;
pub mod validation;

pub use error::{ReportError, Result};
pub use frame::{FrameFormat, render_frame};
pub use ingest_summary::render_ingest_summary;
pub use record_summary::{RecordSummary, SummaryLine, render_record_summary};
