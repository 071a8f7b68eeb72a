//! The presenter's workload controls through the API that `dbagent up` starts, with real
//! workload processes against the local target cluster.

mod support;

use std::path::Path;

use reqwest::StatusCode;
use serde_json::Value;
use support::Stack;

/// Small enough to load in a few seconds.
const ORDERS: &str = "20000";

struct Api {
    client: reqwest::Client,
    url: String,
    token: String,
}

impl Api {
    /// Reads the URL and token of the API that `dbagent up` started in `state_dir`.
    fn of_stack(state_dir: &Path) -> Api {
        let read = |name: &str| {
            std::fs::read_to_string(state_dir.join(name))
                .unwrap_or_else(|error| panic!("failed to read {name}: {error}"))
                .trim()
                .to_string()
        };
        Api {
            client: reqwest::Client::new(),
            url: read("api-url"),
            token: read("api-token"),
        }
    }

    async fn send(&self, request: reqwest::RequestBuilder) -> (StatusCode, Value) {
        let response = request.bearer_auth(&self.token).send().await.unwrap();
        let status = response.status();
        (status, response.json().await.unwrap())
    }

    async fn get(&self, path: &str) -> (StatusCode, Value) {
        self.send(self.client.get(format!("{}{path}", self.url)))
            .await
    }

    async fn post(&self, path: &str) -> (StatusCode, Value) {
        self.send(self.client.post(format!("{}{path}", self.url)))
            .await
    }
}

fn workload_names(status: &Value) -> Vec<&str> {
    status["workloads"]
        .as_array()
        .unwrap()
        .iter()
        .map(|workload| workload["name"].as_str().unwrap())
        .collect()
}

fn process_exists(pid: u64) -> bool {
    Path::new(&format!("/proc/{pid}")).exists()
}

#[tokio::test(flavor = "multi_thread")]
async fn api_starts_and_stops_workloads() {
    let stack = Stack::new();
    stack.up(ORDERS);
    let api = Api::of_stack(&stack.state_dir);
    let start = "/api/scenario/workloads/orders-by-customer/start";
    let stop = "/api/scenario/workloads/orders-by-customer/stop";

    let (status, listed) = api.get("/api/scenario/workloads").await;
    assert_eq!(status, StatusCode::OK, "{listed}");
    let names: Vec<&str> = listed
        .as_array()
        .unwrap()
        .iter()
        .map(|workload| workload["name"].as_str().unwrap())
        .collect();
    assert_eq!(names, ["orders-by-customer", "shipments-by-tracking"]);
    assert_eq!(listed[0]["running"], false);
    let statement = listed[0]["statement"].as_str().unwrap();
    assert!(statement.contains("WHERE customer_id = $1"), "{statement}");

    let (status, started) = api.post(start).await;
    assert_eq!(status, StatusCode::OK, "{started}");
    assert_eq!(started["running"], true);
    let pid = started["pid"]
        .as_u64()
        .expect("a running workload has a pid");
    assert!(process_exists(pid));
    assert_eq!(workload_names(&stack.status()), ["orders-by-customer"]);

    let (status, again) = api.post(start).await;
    assert_eq!(status, StatusCode::OK, "{again}");
    assert_eq!(again["running"], true);
    assert_eq!(again["pid"].as_u64(), Some(pid));

    let (status, stopped) = api.post(stop).await;
    assert_eq!(status, StatusCode::OK, "{stopped}");
    assert_eq!(stopped["running"], false);
    assert!(stopped["pid"].is_null(), "{stopped}");
    // The API started the process, so it must also have reaped it: no zombie remains.
    assert!(!process_exists(pid), "process {pid} still exists");
    assert!(workload_names(&stack.status()).is_empty());

    let (status, again) = api.post(stop).await;
    assert_eq!(status, StatusCode::OK, "{again}");
    assert_eq!(again["running"], false);

    let (status, unknown) = api.post("/api/scenario/workloads/nope/start").await;
    assert_eq!(status, StatusCode::NOT_FOUND, "{unknown}");
    let message = unknown["error"].as_str().unwrap();
    assert!(message.contains("orders-by-customer"), "{message}");
    assert!(message.contains("shipments-by-tracking"), "{message}");
}

#[test]
fn scenario_controls_need_a_local_target() {
    let stack = Stack::new();
    // The API checks for the target cluster before it connects to the control plane.
    let args = [
        "api",
        "--control-dsn",
        "postgres://127.0.0.1:1/none",
        "--scenario-controls",
    ];

    let output = stack.run(&args);

    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(!output.status.success(), "{stderr}");
    assert!(
        stderr.contains("--scenario-controls needs the local target cluster"),
        "{stderr}"
    );
    assert!(stderr.contains("dbagent up"), "{stderr}");
}
