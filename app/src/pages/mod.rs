//! The dashboard's pages, one module per page, plus the issue page's evidence cards and
//! always-allow assistant.

mod assistant;
mod evidence;
mod instructions;
mod issue;
mod overview;
mod run;
mod scenario;
mod sign_in;
mod timeline;

pub use instructions::InstructionsPage;
pub use issue::IssuePage;
pub use overview::OverviewPage;
pub use run::RunPage;
pub use sign_in::SignInPage;
pub use timeline::TimelinePage;
