//! A test API over a real control cluster, and seeding helpers.

use std::time::Duration;

use axum::Router;
use axum::body::Body;
use axum::http::{Request, StatusCode, header};
use chrono::{DateTime, TimeDelta, Utc};
use cluster::{ClusterKind, TempCluster};
use contracts::{
    AlertId, Approval, CpuSample, CreateIndex, Evidence, IndexKey, Issue, IssueId, IssueStatus,
    MetricsSource, ProposedAction, Run, RunId, RunState, Server, ServerId, Severity,
};
use control::ControlPlane;
use http_body_util::BodyExt;
use serde_json::Value;
use server::{ApiToken, AppState};
use tokio::sync::Mutex;
use tower::ServiceExt;

/// Serializes database creation, because concurrent `CREATE DATABASE` calls copying the same
/// template can fail.
static CREATE_DATABASE: Mutex<()> = Mutex::const_new(());

/// Returns the control cluster shared by every test of this binary.
pub async fn shared_cluster() -> &'static TempCluster {
    // Starting the cluster runs initdb and pg_ctl, which block.
    tokio::task::spawn_blocking(|| TempCluster::shared(ClusterKind::Control))
        .await
        .expect("the cluster start task panicked")
}

/// Creates the database `server_<name>` and returns its connection string. Each test gets its
/// own database, because the approvals queue would otherwise carry other tests' messages.
pub async fn database_url(name: &str) -> String {
    let cluster = shared_cluster().await;
    let database = format!("server_{name}");
    let _guard = CREATE_DATABASE.lock().await;
    cluster
        .ensure_database(&database)
        .await
        .unwrap_or_else(|error| panic!("failed to create database {database}: {error}"));
    cluster.connection_string(&database)
}

/// The router with a fresh token, over a fresh control plane.
pub struct TestApi {
    pub control: ControlPlane,
    pub app: Router,
    pub token: String,
    _state_dir: tempfile::TempDir,
}

impl TestApi {
    pub async fn start(name: &str) -> TestApi {
        let url = database_url(name).await;
        let control = ControlPlane::connect_postgres(&url)
            .await
            .expect("failed to connect the control plane");
        control
            .ensure_layout()
            .await
            .expect("failed to create the layout");
        let state_dir = tempfile::tempdir().unwrap();
        let token = ApiToken::load_or_create(state_dir.path()).unwrap();
        let secret = token.expose().to_string();
        let app = server::router(AppState::new(control.clone(), token));
        TestApi {
            control,
            app,
            token: secret,
            _state_dir: state_dir,
        }
    }

    pub async fn get(&self, path: &str) -> (StatusCode, Value) {
        let request = self
            .authorized(Request::get(path))
            .body(Body::empty())
            .unwrap();
        self.send(request).await
    }

    /// Posts `body` as JSON, or nothing when it is `None`.
    pub async fn post(&self, path: &str, body: Option<Value>) -> (StatusCode, Value) {
        let builder = self.authorized(Request::post(path));
        let request = match body {
            Some(body) => builder
                .header(header::CONTENT_TYPE, "application/json")
                .body(Body::from(body.to_string())),
            None => builder.body(Body::empty()),
        };
        self.send(request.unwrap()).await
    }

    pub fn authorized(
        &self,
        builder: axum::http::request::Builder,
    ) -> axum::http::request::Builder {
        builder.header(header::AUTHORIZATION, format!("Bearer {}", self.token))
    }

    /// Sends a request through the router and parses the body as JSON (`Null` when empty).
    pub async fn send(&self, request: Request<Body>) -> (StatusCode, Value) {
        let response = self.app.clone().oneshot(request).await.unwrap();
        let status = response.status();
        let bytes = response.into_body().collect().await.unwrap().to_bytes();
        let body = if bytes.is_empty() {
            Value::Null
        } else {
            serde_json::from_slice(&bytes).unwrap_or_else(|error| {
                panic!(
                    "body is not JSON ({error}): {}",
                    String::from_utf8_lossy(&bytes)
                )
            })
        };
        (status, body)
    }

    /// Receives every approval on the bus, completing each, so a test can count them.
    pub async fn approvals(&self) -> Vec<Approval> {
        let received = self
            .control
            .receive::<Approval>(10, Duration::from_secs(1))
            .await
            .unwrap();
        let mut approvals = Vec::new();
        for message in received {
            self.control.complete(&message).await.unwrap();
            approvals.push(message.envelope.payload);
        }
        approvals
    }
}

pub fn minutes_ago(minutes: i64) -> DateTime<Utc> {
    Utc::now() - TimeDelta::minutes(minutes)
}

pub async fn seed_server(control: &ControlPlane, id: &str) -> ServerId {
    let server = Server {
        id: ServerId::from(id),
        endpoint: "127.0.0.1:5433/shop".to_string(),
        agent_enabled: true,
        vcores: 2,
        cpu_threshold_pct: 80.0,
        metrics: MetricsSource::LocalProcess {
            data_dir: "/tmp/target/data".to_string(),
        },
        registered_at: minutes_ago(60),
    };
    control.register_server(&server).await.unwrap();
    server.id
}

pub async fn seed_cpu(control: &ControlPlane, server_id: &ServerId, percents: &[f64]) {
    for (index, &cpu_pct) in percents.iter().enumerate() {
        let at = minutes_ago(10) + TimeDelta::seconds(5 * index as i64);
        let sample = CpuSample { at, cpu_pct };
        control.record_cpu_sample(server_id, sample).await.unwrap();
    }
}

pub async fn seed_run(
    control: &ControlPlane,
    server_id: &ServerId,
    created_at: DateTime<Utc>,
) -> Run {
    let run = Run {
        id: RunId::new(),
        server_id: server_id.clone(),
        alert_id: AlertId::new(),
        state: RunState::AwaitingApproval,
        issue_id: None,
        steps: Vec::new(),
        failure: None,
        heartbeat_at: created_at,
        instruction_id: None,
        build_progress: None,
        over_threshold_since: None,
        created_at,
        updated_at: created_at,
    };
    control.create_run(&run).await.unwrap();
    run
}

/// Seeds a run and an issue in `status` that proposes an index on `public.orders(customer_id)`.
pub async fn seed_issue(
    control: &ControlPlane,
    server_id: &ServerId,
    status: IssueStatus,
    created_at: DateTime<Utc>,
) -> Issue {
    let run = seed_run(control, server_id, created_at).await;
    let key = IndexKey::Column {
        name: "customer_id".to_string(),
        descending: false,
    };
    let action = CreateIndex::new("public", "orders", vec![key], None);
    let issue = Issue {
        id: IssueId::new(),
        server_id: server_id.clone(),
        run_id: run.id,
        severity: Severity::High,
        status,
        title: "Sequential scans on public.orders".to_string(),
        summary: "Filtering orders by customer_id scans the whole table".to_string(),
        evidence: Evidence::default(),
        proposed_action: Some(ProposedAction::CreateIndex(action)),
        resolution: None,
        created_at,
        updated_at: created_at,
    };
    control.create_issue(&issue).await.unwrap();
    issue
}
