//! A small client of DBAgent's REST API, for `dbagent demo`.

use anyhow::Context;
use serde::Serialize;
use serde::de::DeserializeOwned;

#[derive(Debug, Clone)]
pub struct ApiClient {
    base_url: String,
    token: String,
    http: reqwest::Client,
}

impl ApiClient {
    pub fn new(base_url: &str, token: &str) -> ApiClient {
        ApiClient {
            base_url: base_url.trim_end_matches('/').to_string(),
            token: token.to_string(),
            http: reqwest::Client::new(),
        }
    }

    pub async fn get<T: DeserializeOwned>(&self, path: &str) -> anyhow::Result<T> {
        let response = self
            .http
            .get(format!("{}{path}", self.base_url))
            .bearer_auth(&self.token)
            .send()
            .await
            .with_context(|| format!("failed to reach the API at {}", self.base_url))?;
        decode(path, response).await
    }

    pub async fn post<B: Serialize, T: DeserializeOwned>(
        &self,
        path: &str,
        body: &B,
    ) -> anyhow::Result<T> {
        let response = self
            .http
            .post(format!("{}{path}", self.base_url))
            .bearer_auth(&self.token)
            .header("X-DBAgent-Actor", "dbagent demo")
            .json(body)
            .send()
            .await
            .with_context(|| format!("failed to reach the API at {}", self.base_url))?;
        decode(path, response).await
    }
}

async fn decode<T: DeserializeOwned>(path: &str, response: reqwest::Response) -> anyhow::Result<T> {
    let status = response.status();
    let text = response.text().await?;
    if !status.is_success() {
        anyhow::bail!("{path} returned {status}: {text}");
    }
    serde_json::from_str(&text).with_context(|| format!("{path} returned unexpected JSON: {text}"))
}
