//! One module per page of the dashboard.

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
