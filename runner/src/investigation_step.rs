//! The first step of a run: investigate, open the issue, then act or ask.

use chrono::{Duration as TimeDelta, Utc};
use contracts::{
    ActionKind, CompletionOutcome, Evidence, Issue, IssueId, IssueStatus, ProposedAction,
    ResolutionPath, RiskFacts, Run, RunState, Severity, TimelineEventKind,
};
use tokio_postgres::Client;

use crate::autonomy::{self, Autonomy};
use crate::investigate::{self, InvestigateOptions, Investigation};
use crate::{Context, Error, resolution_step, risk, schedule, steps, target};

/// Window before the run's creation over which "CPU before" is averaged; the monitor's default
/// alert window.
const CPU_BEFORE_WINDOW: TimeDelta = TimeDelta::seconds(30);

pub async fn run(ctx: &Context, run: Run) -> Result<(), Error> {
    let run = steps::advance(
        ctx,
        &run,
        RunState::Investigating,
        "Investigating statistics deltas",
    )
    .await?;
    let client = target::connect(&ctx.config, &run.server_id).await?;
    let options = InvestigateOptions {
        window: ctx.config.investigation_window,
        ..InvestigateOptions::default()
    };
    let investigation = investigate::investigate(&client, &options).await?;
    let risk = risk_facts(ctx, &run, &client, &investigation).await;

    let cpu_before = cpu_before(ctx, &run).await?;
    let issue = open_issue(ctx, &run, &investigation, cpu_before, risk).await?;
    let run = ctx
        .control
        .update_run(&run.server_id, run.id, |stored| {
            let changed = stored.issue_id != Some(issue.id);
            stored.issue_id = Some(issue.id);
            changed
        })
        .await?;
    ctx.record(&run, TimelineEventKind::IssueOpened, issue.title.clone())
        .await?;

    let proposal = issue.proposed_action.as_ref();
    let standby = investigation.server_role.is_standby();
    let (Some(ProposedAction::CreateIndex(action)), false) = (proposal, standby) else {
        // A standby is read-only, so nothing runs here. Its proposal names the primary,
        // where a person builds the index.
        let step = if standby {
            "Connected to a standby: nothing is executed here"
        } else {
            "No action proposed"
        };
        let run = steps::advance(ctx, &run, RunState::Completed, step).await?;
        return steps::report(
            ctx,
            &run,
            CompletionOutcome::Completed {
                issue_id: Some(issue.id),
            },
        )
        .await;
    };

    let table_bytes = issue.evidence.table_size_bytes;
    match autonomy::check(
        &ctx.control,
        &run.server_id,
        run.id,
        ActionKind::CreateIndex,
        &action.schema,
        table_bytes,
    )
    .await?
    {
        Autonomy::Allowed(instruction) => {
            let run = steps::record_instruction(ctx, &run, instruction.id).await?;
            let message = format!("Approved by always-allow instruction {}", instruction.id);
            ctx.record(&run, TimelineEventKind::Approved, message)
                .await?;
            let path = ResolutionPath::Autonomous {
                instruction_id: instruction.id,
            };
            resolution_step::execute(ctx, run, issue, path).await
        }
        Autonomy::Scheduled {
            instruction,
            at,
            mut reasons,
        } => {
            // The trigger goes first, so that a retry of this step cannot lose it.
            reasons.push(schedule::schedule(ctx, &run, &instruction, at).await?);
            ask_for_approval(ctx, run, issue, reasons).await
        }
        Autonomy::AskFirst { reasons } => ask_for_approval(ctx, run, issue, reasons).await,
    }
}

async fn ask_for_approval(
    ctx: &Context,
    run: Run,
    issue: Issue,
    reasons: Vec<String>,
) -> Result<(), Error> {
    // The run is suspended before the issue shows as awaiting approval: the API accepts a
    // decision once the issue does, and Platform Services resumes only a suspended run.
    let run = steps::advance(
        ctx,
        &run,
        RunState::AwaitingApproval,
        "Waiting for approval",
    )
    .await?;
    ctx.control
        .update_issue(&run.server_id, issue.id, |stored| {
            if stored.status != IssueStatus::Open && stored.status != IssueStatus::AwaitingApproval
            {
                return false;
            }
            stored.status = IssueStatus::AwaitingApproval;
            for reason in &reasons {
                if !stored.evidence.notes.contains(reason) {
                    stored.evidence.notes.push(reason.clone());
                }
            }
            stored.updated_at = Utc::now();
            true
        })
        .await?;
    let message = format!("Approval requested: {}", issue.title);
    ctx.record(&run, TimelineEventKind::ApprovalRequested, message)
        .await?;
    steps::report(
        ctx,
        &run,
        CompletionOutcome::Suspended { issue_id: issue.id },
    )
    .await?;

    // A decision recorded while an earlier attempt of this step ran would otherwise never
    // resume the run, because its approval message arrived before the run was suspended.
    if ctx
        .control
        .decision(&run.server_id, issue.id)
        .await?
        .is_some()
    {
        return resolution_step::resume(ctx, run).await;
    }
    Ok(())
}

/// Creates the run's issue from the investigation, or returns the one an earlier attempt of the
/// same run created: its id is derived from the run id.
async fn open_issue(
    ctx: &Context,
    run: &Run,
    investigation: &Investigation,
    cpu_before: Option<f64>,
    risk: Option<RiskFacts>,
) -> Result<Issue, Error> {
    let id = IssueId::derived(run.id.0, "issue");
    let now = Utc::now();
    let mut issue = Issue {
        id,
        server_id: run.server_id.clone(),
        run_id: run.id,
        severity: Severity::Low,
        status: IssueStatus::Open,
        title: "No statement stood out".to_string(),
        summary: "The investigation window saw no statement worth an index.".to_string(),
        evidence: Evidence::default(),
        proposed_action: None,
        resolution: None,
        created_at: now,
        updated_at: now,
    };
    if let Some(finding) = investigation.issue_finding() {
        issue.severity = finding.severity;
        issue.title = finding.title.clone();
        issue.summary = finding.summary.clone();
        issue.evidence = finding.evidence.clone();
        issue.proposed_action = finding.proposed_action.clone();
    }
    issue.evidence.cpu_pct = cpu_before;
    issue.evidence.risk = risk;
    if !ctx.control.create_issue(&issue).await? {
        return Ok(ctx.control.issue(&run.server_id, id).await?);
    }
    Ok(issue)
}

/// Gathers the risk facts for the run's issue. Returns `None` when they could not be read,
/// because the issue is worth opening without them.
async fn risk_facts(
    ctx: &Context,
    run: &Run,
    client: &Client,
    investigation: &Investigation,
) -> Option<RiskFacts> {
    let metrics = match ctx.control.server(&run.server_id).await {
        Ok(server) => Some(server.metrics),
        Err(error) => {
            tracing::warn!(%error, "failed to read the server record, so the risk facts leave out the disk");
            None
        }
    };
    risk::gather(
        client,
        investigation,
        investigation.issue_finding(),
        metrics.as_ref(),
    )
    .await
}

/// Averages the CPU samples in the window before the alert that started the run.
pub async fn cpu_before(ctx: &Context, run: &Run) -> Result<Option<f64>, Error> {
    let status = ctx.control.server_status(&run.server_id).await?;
    Ok(status.average_between(run.created_at - CPU_BEFORE_WINDOW, run.created_at))
}
