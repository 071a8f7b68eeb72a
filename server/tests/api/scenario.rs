//! `/api/scenario/workloads`: the routes over a test implementation of [`ScenarioControl`].
//! The `dbagent` binary's implementation, with real processes, is tested in the `cli` crate.

use std::collections::BTreeMap;
use std::sync::Arc;
use std::sync::Mutex;

use axum::body::Body;
use axum::http::{Request, StatusCode};
use contracts::api::Workload;
use serde_json::Value;
use server::scenario::{ScenarioControl, ScenarioError};
use server::{ApiToken, AppState};

use crate::support::TestApi;

const KNOWN: [&str; 2] = ["orders-by-customer", "shipments-by-tracking"];

/// Workloads as entries in a map of running names to made-up pids.
#[derive(Debug)]
struct RecordedWorkloads {
    running: Mutex<BTreeMap<String, u32>>,
    target_running: bool,
}

impl RecordedWorkloads {
    fn state(&self, name: &str) -> Result<Workload, ScenarioError> {
        if !KNOWN.contains(&name) {
            return Err(ScenarioError::UnknownWorkload {
                name: name.to_string(),
                known: KNOWN.map(String::from).to_vec(),
            });
        }
        let pid = self.running.lock().unwrap().get(name).copied();
        Ok(Workload {
            name: name.to_string(),
            description: format!("The {name} workload."),
            statement: "SELECT 1".to_string(),
            running: pid.is_some(),
            pid,
        })
    }
}

impl ScenarioControl for RecordedWorkloads {
    fn workloads(&self) -> Result<Vec<Workload>, ScenarioError> {
        KNOWN.iter().map(|name| self.state(name)).collect()
    }

    fn start(&self, name: &str) -> Result<Workload, ScenarioError> {
        self.state(name)?;
        if !self.target_running {
            let message = "the local target cluster is not running; start it with `dbagent up`";
            return Err(ScenarioError::Unavailable(message.to_string()));
        }
        {
            let mut running = self.running.lock().unwrap();
            let next_pid = 4000 + running.len() as u32;
            running.entry(name.to_string()).or_insert(next_pid);
        }
        self.state(name)
    }

    fn stop(&self, name: &str) -> Result<Workload, ScenarioError> {
        self.state(name)?;
        self.running.lock().unwrap().remove(name);
        self.state(name)
    }
}

/// Starts a test API whose router has `control` as its scenario controls.
async fn api_with(name: &str, control: RecordedWorkloads) -> TestApi {
    let mut api = TestApi::start(name).await;
    let token_dir = tempfile::tempdir().unwrap();
    let token = ApiToken::load_or_create(token_dir.path()).unwrap();
    api.token = token.expose().to_string();
    let state = AppState::new(api.control.clone(), token).with_scenario(Some(Arc::new(control)));
    api.app = server::router(state);
    api
}

fn recorded(target_running: bool) -> RecordedWorkloads {
    RecordedWorkloads {
        running: Mutex::new(BTreeMap::new()),
        target_running,
    }
}

fn running_names(body: &Value) -> Vec<&str> {
    body.as_array()
        .unwrap()
        .iter()
        .filter(|workload| workload["running"] == true)
        .map(|workload| workload["name"].as_str().unwrap())
        .collect()
}

#[tokio::test]
async fn workloads_start_and_stop_idempotently() {
    let api = api_with("scenario_start_stop", recorded(true)).await;
    let start = "/api/scenario/workloads/orders-by-customer/start";
    let stop = "/api/scenario/workloads/orders-by-customer/stop";

    let (status, body) = api.get("/api/scenario/workloads").await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(body.as_array().unwrap().len(), 2);
    assert!(running_names(&body).is_empty(), "{body}");

    let (status, started) = api.post(start, None).await;
    assert_eq!(status, StatusCode::OK, "{started}");
    assert_eq!(started["name"], "orders-by-customer");
    assert_eq!(started["running"], true);
    assert!(started["pid"].is_u64(), "{started}");

    let (status, again) = api.post(start, None).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(again["pid"], started["pid"]);

    let (_, body) = api.get("/api/scenario/workloads").await;
    assert_eq!(running_names(&body), ["orders-by-customer"]);

    let (status, stopped) = api.post(stop, None).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(stopped["running"], false);
    assert!(stopped["pid"].is_null(), "{stopped}");

    let (status, again) = api.post(stop, None).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(again["running"], false);
}

#[tokio::test]
async fn unknown_workload_lists_known_names() {
    let api = api_with("scenario_unknown", recorded(true)).await;

    for action in ["start", "stop"] {
        let path = format!("/api/scenario/workloads/nope/{action}");
        let (status, body) = api.post(&path, None).await;
        assert_eq!(status, StatusCode::NOT_FOUND, "{action}");
        let message = body["error"].as_str().unwrap();
        assert!(message.contains("\"nope\""), "{message}");
        for known in KNOWN {
            assert!(message.contains(known), "{message}");
        }
    }
}

#[tokio::test]
async fn stopped_target_is_503_with_the_fix() {
    let api = api_with("scenario_no_target", recorded(false)).await;

    let path = "/api/scenario/workloads/orders-by-customer/start";
    let (status, body) = api.post(path, None).await;

    assert_eq!(status, StatusCode::SERVICE_UNAVAILABLE);
    let message = body["error"].as_str().unwrap();
    assert!(message.contains("dbagent up"), "{message}");
}

#[tokio::test]
async fn scenario_routes_need_the_local_stack() {
    let api = TestApi::start("scenario_absent").await;

    let (status, body) = api.get("/api/scenario/workloads").await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    let message = body["error"].as_str().unwrap();
    assert!(
        message.contains("only on the local stack started by `dbagent up`"),
        "{message}"
    );

    let path = "/api/scenario/workloads/orders-by-customer/start";
    let (status, _) = api.post(path, None).await;
    assert_eq!(status, StatusCode::NOT_FOUND);
}

#[tokio::test]
async fn starting_a_workload_needs_the_token() {
    let api = api_with("scenario_token", recorded(true)).await;
    let request = Request::post("/api/scenario/workloads/orders-by-customer/start")
        .body(Body::empty())
        .unwrap();

    let (status, _) = api.send(request).await;

    assert_eq!(status, StatusCode::UNAUTHORIZED);
    let (_, body) = api.get("/api/scenario/workloads").await;
    assert!(running_names(&body).is_empty(), "{body}");
}
