//! The OpenAPI document of the API, built from the handlers' `#[utoipa::path]` annotations.

use std::sync::LazyLock;

use axum::Json;
use utoipa::openapi::security::{HttpAuthScheme, HttpBuilder, SecurityScheme};
use utoipa::{Modify, OpenApi};

use crate::error::ErrorBody;
use crate::routes::{
    self, assessment, decisions, instructions, issues, runs, scenario, servers, sessions, timeline,
};

/// Name of the bearer-token security scheme. The `security(...)` attribute above repeats it
/// as a literal, because the macro accepts only literals.
const BEARER: &str = "bearer";

#[derive(OpenApi)]
#[openapi(
    info(
        title = "DBAgent API",
        description = "Servers, issues, decisions, standing permissions, runs and the timeline \
                       of DBAgent, an autonomous agent for PostgreSQL, and the workload \
                       controls of its local scenario."
    ),
    paths(
        routes::health,
        servers::list,
        issues::list,
        issues::get,
        assessment::get,
        decisions::approve,
        decisions::skip,
        decisions::always_allow,
        instructions::list,
        instructions::create,
        instructions::revoke,
        timeline::list,
        runs::list,
        runs::get,
        scenario::list,
        scenario::start,
        scenario::stop,
        sessions::sign_in,
        sessions::current,
        sessions::sign_out,
        document,
    ),
    components(schemas(ErrorBody)),
    modifiers(&BearerSecurity),
    security(("bearer" = [])),
)]
pub struct ApiDoc;

/// Declares the bearer scheme that the document's global `security` refers to.
struct BearerSecurity;

impl Modify for BearerSecurity {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        let scheme = HttpBuilder::new()
            .scheme(HttpAuthScheme::Bearer)
            .description(Some(
                "The token in the `api-token` file of the server's state directory",
            ))
            .build();
        openapi
            .components
            .get_or_insert_with(Default::default)
            .add_security_scheme(BEARER, SecurityScheme::Http(scheme));
    }
}

static DOCUMENT: LazyLock<utoipa::openapi::OpenApi> = LazyLock::new(ApiDoc::openapi);

/// Returns this document.
#[utoipa::path(
    get,
    path = "/api/openapi.json",
    operation_id = "openapi_document",
    tag = "meta",
    responses((status = 200, description = "OpenAPI 3.1 document", content_type = "application/json"))
)]
pub async fn document() -> Json<&'static utoipa::openapi::OpenApi> {
    Json(&DOCUMENT)
}
