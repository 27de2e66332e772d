//! Checks `template.yaml` against what the code declares: the function crates and their
//! binaries, the environment variables `Config` reads, the IAM actions each function calls, and
//! the metric names the code can publish. Also checks the storage, encryption and API defaults
//! of the design: TTL, point-in-time recovery, encryption at rest and IAM auth by default.

use std::{
    collections::{BTreeMap, BTreeSet},
    fs,
    path::{Path, PathBuf},
};

use mpt_core::{
    config::{DEFAULT_PUBLISHED_METRICS, ENV_VARS},
    iam::{self, Function},
    names::is_publishable,
};
use serde_yaml::Value;

// ---------------------------------------------------------------- functions and crates

#[test]
fn template_functions_have_crates() {
    let template = Template::load();
    for (id, function) in template.resources_of_type("AWS::Serverless::Function") {
        let code_uri = str_at(function, &["Properties", "CodeUri"]);
        let crate_dir = repo_root().join(code_uri);
        let manifest = crate_dir.join("Cargo.toml");
        assert!(manifest.is_file(), "{id}: CodeUri {code_uri} has no Cargo.toml");

        let binaries = crate_binaries(&manifest);
        let binary = str_at(function, &["Metadata", "BuildProperties", "Binary"]);
        assert!(
            binaries.contains(binary),
            "{id}: binary {binary} is not among {binaries:?} in {code_uri}"
        );
        assert_eq!(
            str_at(function, &["Metadata", "BuildMethod"]),
            "rust-cargolambda",
            "{id}: build method"
        );
    }
}

#[test]
fn every_function_crate_is_deployed() {
    let template = Template::load();
    let deployed: BTreeSet<&str> = template
        .resources_of_type("AWS::Serverless::Function")
        .map(|(_, function)| str_at(function, &["Properties", "CodeUri"]))
        .collect();
    for entry in fs::read_dir(repo_root().join("functions")).expect("functions/ is readable") {
        let name = entry.expect("functions/ entry is readable").file_name();
        let code_uri = format!("functions/{}", name.to_string_lossy());
        assert!(
            deployed.contains(code_uri.as_str()),
            "{code_uri} is not a function in template.yaml"
        );
    }
}

#[test]
fn functions_run_on_provided_al2023() {
    let template = Template::load();
    let globals = &template.root["Globals"]["Function"];
    assert_eq!(
        globals["Runtime"].as_str(),
        Some("provided.al2023"),
        "Globals.Function.Runtime"
    );
    assert_eq!(
        globals["Handler"].as_str(),
        Some("bootstrap"),
        "Globals.Function.Handler"
    );
    assert_eq!(
        template.parameter_default("Architecture"),
        "arm64",
        "Architecture default"
    );
}

// ---------------------------------------------------------------- environment

#[test]
fn environment_sets_every_config_var() {
    let template = Template::load();
    for (id, function) in template.resources_of_type("AWS::Serverless::Function") {
        let variables = template.environment(function);
        for name in ENV_VARS {
            assert!(variables.contains_key(*name), "{id} does not set {name}");
        }
    }
}

#[test]
fn environment_has_no_unknown_mpt_vars() {
    let template = Template::load();
    for (id, function) in template.resources_of_type("AWS::Serverless::Function") {
        for name in template.environment(function).keys() {
            let known = !name.starts_with("MPT_") || ENV_VARS.contains(&name.as_str());
            assert!(known, "{id} sets {name}, which config::ENV_VARS does not list");
        }
    }
}

#[test]
fn environment_refers_to_stack_resources() {
    let expected = [
        ("MPT_TABLE", "Table"),
        ("MPT_TOPIC_ARN", "AlertTopic"),
        ("MPT_NAMESPACE", "MetricsNamespace"),
        ("MPT_WINDOWS", "Windows"),
        ("MPT_RETENTION_DAYS", "RetentionDays"),
        ("MPT_PUBLISHED_METRICS", "PublishedMetrics"),
        ("MPT_DEFAULT_MONITORS", "DefaultMonitors"),
    ];
    let template = Template::load();
    for (id, function) in template.resources_of_type("AWS::Serverless::Function") {
        let variables = template.environment(function);
        for (name, target) in expected {
            let reference = variables.get(name).and_then(|value| intrinsic_argument(value, "Ref"));
            assert_eq!(
                reference.and_then(Value::as_str),
                Some(target),
                "{id}: {name} is not a !Ref {target}"
            );
        }
    }
}

#[test]
fn dashboard_url_names_the_dashboard() {
    let template = Template::load();
    let dashboard = template.resource("Dashboard");
    let name = intrinsic_argument(&dashboard["Properties"]["DashboardName"], "Fn::Sub")
        .and_then(Value::as_str)
        .expect("DashboardName is a !Sub string");
    let url = &template.root["Globals"]["Function"]["Environment"]["Variables"]["MPT_DASHBOARD_URL"];
    let url = intrinsic_argument(url, "Fn::Sub")
        .and_then(Value::as_str)
        .expect("MPT_DASHBOARD_URL is a !Sub string");
    assert!(
        url.ends_with(&format!("name={name}")),
        "MPT_DASHBOARD_URL {url} does not open dashboard {name}"
    );
    assert!(
        url.contains("region=${AWS::Region}"),
        "MPT_DASHBOARD_URL {url} does not name the region"
    );
}

#[test]
fn default_monitors_match_file() {
    let template = Template::load();
    let parameter: serde_json::Value =
        serde_json::from_str(&template.parameter_default("DefaultMonitors")).expect("DefaultMonitors is JSON");
    let file = fs::read_to_string(repo_root().join("infra/default-monitors.json")).expect("file is readable");
    let file: serde_json::Value = serde_json::from_str(&file).expect("infra/default-monitors.json is JSON");
    assert_eq!(
        parameter, file,
        "DefaultMonitors default differs from infra/default-monitors.json"
    );
}

// ---------------------------------------------------------------- IAM

#[test]
fn policies_allow_exactly_declared_actions() {
    let template = Template::load();
    for function in Function::ALL {
        let (id, resource) = template.function_for_crate(function.crate_name());
        let granted: BTreeSet<String> = policy_statements(resource)
            .iter()
            .flat_map(|s| strings(&s["Action"]))
            .collect();
        let declared: BTreeSet<String> = iam::actions(function).into_iter().map(String::from).collect();
        let missing: Vec<_> = declared.difference(&granted).collect();
        let extra: Vec<_> = granted.difference(&declared).collect();
        assert!(
            missing.is_empty(),
            "{id} lacks actions iam::actions declares: {missing:?}"
        );
        assert!(
            extra.is_empty(),
            "{id} allows actions iam::actions does not declare: {extra:?}"
        );
    }
}

#[test]
fn no_wildcard_action_anywhere() {
    let template = Template::load();
    let mut actions = Vec::new();
    collect_actions(&template.root, &mut actions);
    assert!(!actions.is_empty(), "found no Action keys, so the walk is broken");
    for action in actions {
        assert_ne!(action, "*", "an Action grants every action of every service");
        assert!(!action.ends_with(":*"), "wildcard action {action}");
    }
}

#[test]
fn wildcard_resource_only_for_namespaced_metrics() {
    let template = Template::load();
    for (id, function) in template.resources_of_type("AWS::Serverless::Function") {
        for statement in policy_statements(function) {
            if !strings(&statement["Resource"]).contains(&"*".to_string()) {
                continue;
            }
            let actions = strings(&statement["Action"]);
            assert_eq!(
                actions,
                ["cloudwatch:PutMetricData"],
                "{id}: Resource * with other actions"
            );
            let namespace = &statement["Condition"]["StringEquals"]["cloudwatch:namespace"];
            let reference = intrinsic_argument(namespace, "Ref").and_then(Value::as_str);
            assert_eq!(
                reference,
                Some("MetricsNamespace"),
                "{id}: PutMetricData without the namespace condition"
            );
        }
    }
}

#[test]
fn table_actions_name_only_table_and_index() {
    let template = Template::load();
    for (id, function) in template.resources_of_type("AWS::Serverless::Function") {
        for statement in policy_statements(function) {
            if !strings(&statement["Action"]).iter().any(|a| a.starts_with("dynamodb:")) {
                continue;
            }
            let resources = statement["Resource"]
                .as_sequence()
                .expect("table statement lists resources");
            let table_arn = resources
                .iter()
                .any(|r| intrinsic_argument(r, "Fn::GetAtt").and_then(Value::as_str) == Some("Table.Arn"));
            let index_arn = resources
                .iter()
                .any(|r| intrinsic_argument(r, "Fn::Sub").and_then(Value::as_str) == Some("${Table.Arn}/index/*"));
            assert!(table_arn, "{id}: DynamoDB statement does not name the table ARN");
            assert!(
                index_arn,
                "{id}: DynamoDB statement does not name the table's index ARN"
            );
            assert_eq!(resources.len(), 2, "{id}: DynamoDB statement names other resources");
        }
    }
}

// ---------------------------------------------------------------- metrics and dashboard

#[test]
fn published_metrics_extend_code_defaults() {
    let published = Template::load().published_metrics();
    for name in DEFAULT_PUBLISHED_METRICS {
        assert!(
            published.contains(*name),
            "MPT_PUBLISHED_METRICS drops the code default {name}"
        );
    }
}

#[test]
fn published_metrics_are_publishable() {
    for name in Template::load().published_metrics() {
        assert!(
            is_publishable(&name),
            "MPT_PUBLISHED_METRICS names {name}, which the code never publishes"
        );
    }
}

#[test]
fn dashboard_metrics_are_published() {
    let template = Template::load();
    let published = template.published_metrics();
    let plotted = template.dashboard_metric_names();
    assert!(
        plotted.len() >= 10,
        "found only {plotted:?} on the dashboard, so the parse is broken"
    );
    for name in plotted {
        assert!(
            published.contains(&name),
            "the dashboard plots {name}, which MPT_PUBLISHED_METRICS leaves out"
        );
        assert!(
            is_publishable(&name),
            "the dashboard plots {name}, which the code never publishes"
        );
    }
}

#[test]
fn dashboard_shows_every_alarm() {
    let template = Template::load();
    let body = template.dashboard_body();
    for (id, _) in template.resources_of_type("AWS::CloudWatch::Alarm") {
        assert!(
            body.contains(&format!("${{{id}.Arn}}")),
            "the alarm widget leaves out {id}"
        );
    }
}

// ---------------------------------------------------------------- storage, alerts, schedules

#[test]
fn table_expires_items_by_ttl() {
    let template = Template::load();
    let ttl = &template.resource("Table")["Properties"]["TimeToLiveSpecification"];
    assert_eq!(ttl["AttributeName"].as_str(), Some("expires_at"), "TTL attribute");
    assert_eq!(ttl["Enabled"].as_bool(), Some(true), "TTL enabled");
}

#[test]
fn table_has_point_in_time_recovery() {
    let template = Template::load();
    let properties = &template.resource("Table")["Properties"];
    let enabled = properties["PointInTimeRecoverySpecification"]["PointInTimeRecoveryEnabled"].as_bool();
    assert_eq!(enabled, Some(true));
}

#[test]
fn table_is_encrypted_on_demand_and_retained() {
    let template = Template::load();
    let table = template.resource("Table");
    assert_eq!(
        table["Properties"]["SSESpecification"]["SSEEnabled"].as_bool(),
        Some(true),
        "SSE"
    );
    assert_eq!(
        table["Properties"]["BillingMode"].as_str(),
        Some("PAY_PER_REQUEST"),
        "billing mode"
    );
    assert_eq!(table["DeletionPolicy"].as_str(), Some("Retain"), "DeletionPolicy");
    assert_eq!(
        table["UpdateReplacePolicy"].as_str(),
        Some("Retain"),
        "UpdateReplacePolicy"
    );
}

#[test]
fn table_keys_match_layout() {
    let template = Template::load();
    let properties = &template.resource("Table")["Properties"];
    let key_names = |schema: &Value| -> Vec<String> {
        let keys = schema.as_sequence().expect("KeySchema is a list");
        keys.iter()
            .map(|key| key["AttributeName"].as_str().unwrap_or_default().to_string())
            .collect()
    };
    assert_eq!(key_names(&properties["KeySchema"]), ["pk", "sk"], "table keys");
    let index = &properties["GlobalSecondaryIndexes"][0];
    assert_eq!(index["IndexName"].as_str(), Some("gsi1"), "index name");
    assert_eq!(key_names(&index["KeySchema"]), ["gsi1pk", "gsi1sk"], "index keys");
    assert_eq!(
        index["Projection"]["ProjectionType"].as_str(),
        Some("ALL"),
        "index projection"
    );
}

#[test]
fn topic_is_encrypted_with_stack_key() {
    let template = Template::load();
    let key = &template.resource("AlertTopic")["Properties"]["KmsMasterKeyId"];
    let key_id = intrinsic_argument(key, "Ref")
        .and_then(Value::as_str)
        .expect("KmsMasterKeyId is a !Ref");
    assert_eq!(
        template.resource(key_id)["Type"].as_str(),
        Some("AWS::KMS::Key"),
        "{key_id} type"
    );
}

#[test]
fn every_function_has_errors_alarm() {
    let template = Template::load();
    let alarms: Vec<&Value> = template
        .resources_of_type("AWS::CloudWatch::Alarm")
        .map(|(_, a)| a)
        .collect();
    for (id, _) in template.resources_of_type("AWS::Serverless::Function") {
        let alarm = alarms.iter().find(|alarm| {
            let dimension = &alarm["Properties"]["Dimensions"][0]["Value"];
            alarm["Properties"]["MetricName"].as_str() == Some("Errors")
                && intrinsic_argument(dimension, "Ref").and_then(Value::as_str) == Some(id)
        });
        let alarm = alarm.unwrap_or_else(|| panic!("{id} has no Errors alarm"));
        let action = &alarm["Properties"]["AlarmActions"][0];
        let topic = intrinsic_argument(action, "Ref").and_then(Value::as_str);
        assert_eq!(
            topic,
            Some("AlertTopic"),
            "{id}'s Errors alarm does not notify the alert topic"
        );
    }
}

#[test]
fn schedules_retry_and_keep_dead_letters() {
    let template = Template::load();
    let mut schedules = 0;
    for (id, function) in template.resources_of_type("AWS::Serverless::Function") {
        let Some(events) = function["Properties"]["Events"].as_mapping() else {
            continue;
        };
        for event in events
            .values()
            .filter(|event| event["Type"].as_str() == Some("Schedule"))
        {
            schedules += 1;
            let properties = &event["Properties"];
            let retry = &properties["RetryPolicy"];
            assert!(
                retry["MaximumRetryAttempts"].is_number(),
                "{id}: no MaximumRetryAttempts"
            );
            assert!(
                retry["MaximumEventAgeInSeconds"].is_number(),
                "{id}: no MaximumEventAgeInSeconds"
            );
            let queue_arn = intrinsic_argument(&properties["DeadLetterConfig"]["Arn"], "Fn::GetAtt");
            let queue_arn = queue_arn
                .and_then(Value::as_str)
                .unwrap_or_else(|| panic!("{id}: no dead-letter queue"));
            let queue_id = queue_arn.trim_end_matches(".Arn");
            let queue = &template.resource(queue_id)["Properties"];
            assert_eq!(
                queue["SqsManagedSseEnabled"].as_bool(),
                Some(true),
                "{queue_id} is not encrypted"
            );
        }
    }
    assert_eq!(
        schedules, 2,
        "compute-metrics and check-degradation each have one schedule"
    );
}

// ---------------------------------------------------------------- API

#[test]
fn api_requires_iam_by_default() {
    let template = Template::load();
    assert_eq!(template.parameter_default("ApiAuth"), "AWS_IAM", "ApiAuth default");

    let condition = &template.root["Conditions"]["UseIamAuth"];
    let equals = intrinsic_argument(condition, "Fn::Equals").expect("UseIamAuth is an !Equals");
    assert_eq!(
        intrinsic_argument(&equals[0], "Ref").and_then(Value::as_str),
        Some("ApiAuth"),
        "UseIamAuth tests"
    );
    assert_eq!(equals[1].as_str(), Some("AWS_IAM"), "UseIamAuth compares with");

    let body = &template.resource("Api")["Properties"]["DefinitionBody"];
    let scheme = &body["components"]["securitySchemes"]["sigv4"];
    assert_eq!(
        scheme["x-amazon-apigateway-authtype"].as_str(),
        Some("awsSigv4"),
        "sigv4 scheme"
    );
    for (path, method, operation) in operations(body) {
        let choice = intrinsic_argument(&operation["security"], "Fn::If").expect("security is an !If");
        assert_eq!(
            choice[0].as_str(),
            Some("UseIamAuth"),
            "{method} {path}: security condition"
        );
        assert!(
            choice[1][0]["sigv4"].is_sequence(),
            "{method} {path}: IAM branch does not require sigv4"
        );
    }
}

#[test]
fn api_routes_reach_their_functions() {
    let expected = [
        ("/v1/predictions", "post", "IngestFunction"),
        ("/v1/actuals", "post", "IngestFunction"),
        ("/v1/models/{model}", "put", "IngestFunction"),
        ("/v1/models/{model}/monitors", "put", "IngestFunction"),
        ("/v1/models", "get", "QueryFunction"),
        ("/v1/models/{model}/metrics", "get", "QueryFunction"),
        ("/v1/models/{model}/history", "get", "QueryFunction"),
        ("/v1/models/{model}/compare", "get", "QueryFunction"),
        ("/v1/models/{model}/alerts", "get", "QueryFunction"),
        ("/v1/models/{model}/monitors", "get", "QueryFunction"),
    ];
    let template = Template::load();
    let body = &template.resource("Api")["Properties"]["DefinitionBody"];
    let routes: BTreeMap<(String, String), String> = operations(body)
        .into_iter()
        .map(|(path, method, operation)| {
            let uri = &operation["x-amazon-apigateway-integration"]["uri"];
            let uri = intrinsic_argument(uri, "Fn::Sub")
                .and_then(Value::as_str)
                .unwrap_or_default();
            ((path, method), uri.to_string())
        })
        .collect();
    assert_eq!(routes.len(), expected.len(), "routes: {:?}", routes.keys());
    for (path, method, function) in expected {
        let uri = routes.get(&(path.to_string(), method.to_string()));
        let uri = uri.unwrap_or_else(|| panic!("no route {method} {path}"));
        assert!(
            uri.contains(&format!("${{{function}.Arn}}")),
            "{method} {path} invokes {uri}, not {function}"
        );
    }
}

// ---------------------------------------------------------------- template access

/// The parsed template, with lookups that name what is missing when they fail.
struct Template {
    root: Value,
}

impl Template {
    fn load() -> Self {
        let path = repo_root().join("template.yaml");
        let text = fs::read_to_string(&path).unwrap_or_else(|e| panic!("cannot read {}: {e}", path.display()));
        let root = serde_yaml::from_str(&text).unwrap_or_else(|e| panic!("template.yaml is not valid YAML: {e}"));
        Self { root }
    }

    fn resource(&self, id: &str) -> &Value {
        let resource = &self.root["Resources"][id];
        assert!(!resource.is_null(), "template.yaml has no resource {id}");
        resource
    }

    fn resources_of_type<'a>(&'a self, kind: &'a str) -> impl Iterator<Item = (&'a str, &'a Value)> {
        let resources = self.root["Resources"].as_mapping().expect("Resources is a mapping");
        resources
            .iter()
            .filter(move |(_, resource)| resource["Type"].as_str() == Some(kind))
            .map(|(id, resource)| (id.as_str().expect("resource ids are strings"), resource))
    }

    fn function_for_crate(&self, crate_name: &str) -> (&str, &Value) {
        let code_uri = format!("functions/{crate_name}");
        self.resources_of_type("AWS::Serverless::Function")
            .find(|(_, function)| function["Properties"]["CodeUri"].as_str() == Some(code_uri.as_str()))
            .unwrap_or_else(|| panic!("no function has CodeUri {code_uri}"))
    }

    fn parameter_default(&self, name: &str) -> String {
        let default = &self.root["Parameters"][name]["Default"];
        match default {
            Value::String(text) => text.clone(),
            Value::Number(number) => number.to_string(),
            _ => panic!("parameter {name} has no scalar default"),
        }
    }

    /// Returns a function's environment: the Globals variables overlaid with its own.
    fn environment(&self, function: &Value) -> BTreeMap<String, Value> {
        let mut variables = BTreeMap::new();
        for source in [&self.root["Globals"]["Function"], &function["Properties"]] {
            if let Some(mapping) = source["Environment"]["Variables"].as_mapping() {
                for (name, value) in mapping {
                    variables.insert(
                        name.as_str().expect("variable names are strings").to_string(),
                        value.clone(),
                    );
                }
            }
        }
        variables
    }

    /// Returns the names in MPT_PUBLISHED_METRICS, following a `!Ref` to its parameter's default.
    fn published_metrics(&self) -> BTreeSet<String> {
        let value = &self.root["Globals"]["Function"]["Environment"]["Variables"]["MPT_PUBLISHED_METRICS"];
        let list = match intrinsic_argument(value, "Ref").and_then(Value::as_str) {
            Some(parameter) => self.parameter_default(parameter),
            None => value
                .as_str()
                .expect("MPT_PUBLISHED_METRICS is a string or a !Ref")
                .to_string(),
        };
        list.split(',').map(|name| name.trim().to_string()).collect()
    }

    fn dashboard_body(&self) -> String {
        let body = &self.resource("Dashboard")["Properties"]["DashboardBody"];
        let arguments = intrinsic_argument(body, "Fn::Sub").expect("DashboardBody is a !Sub");
        let text = arguments.get(0).unwrap_or(arguments);
        text.as_str().expect("DashboardBody's !Sub has a string").to_string()
    }

    /// Returns the metric names the dashboard's SEARCH expressions select (`MetricName=\"x\"`).
    fn dashboard_metric_names(&self) -> BTreeSet<String> {
        let body = self.dashboard_body();
        let marker = "MetricName=\\\"";
        body.match_indices(marker)
            .map(|(start, _)| {
                let rest = &body[start + marker.len()..];
                rest[..rest.find('\\').unwrap_or(rest.len())].to_string()
            })
            .collect()
    }
}

fn repo_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .expect("tests/ has a parent")
        .to_path_buf()
}

/// Returns the binary names a crate builds: its `[[bin]]` names, or its package name.
fn crate_binaries(manifest: &Path) -> BTreeSet<String> {
    let text = fs::read_to_string(manifest).unwrap_or_else(|e| panic!("cannot read {}: {e}", manifest.display()));
    let manifest: toml::Table = text
        .parse()
        .unwrap_or_else(|e| panic!("{} is not TOML: {e}", manifest.display()));
    let bins = manifest.get("bin").and_then(|bins| bins.as_array());
    let names: BTreeSet<String> = bins
        .into_iter()
        .flatten()
        .filter_map(|bin| bin.get("name")?.as_str().map(String::from))
        .collect();
    if !names.is_empty() {
        return names;
    }
    let package = manifest.get("package").and_then(|package| package.get("name"));
    package
        .and_then(|name| name.as_str())
        .map(String::from)
        .into_iter()
        .collect()
}

fn str_at<'a>(value: &'a Value, path: &[&str]) -> &'a str {
    let found = path.iter().fold(value, |current, key| &current[*key]);
    found
        .as_str()
        .unwrap_or_else(|| panic!("{} is not a string: {found:?}", path.join(".")))
}

/// Returns the argument of the intrinsic `name` (`Ref` or `Fn::...`) in short (`!Sub x`) or
/// long (`{Fn::Sub: x}`) form.
fn intrinsic_argument<'a>(value: &'a Value, name: &str) -> Option<&'a Value> {
    match value {
        Value::Tagged(tagged) => {
            let tag = tagged.tag.to_string();
            let tag = tag.trim_start_matches('!');
            let long = if tag == "Ref" {
                tag.to_string()
            } else {
                format!("Fn::{tag}")
            };
            (long == name).then_some(&tagged.value)
        }
        Value::Mapping(mapping) if mapping.len() == 1 => mapping.get(name),
        _ => None,
    }
}

/// Returns a scalar or a list of scalars as strings, so `Action: x` and `Action: [x]` compare alike.
fn strings(value: &Value) -> Vec<String> {
    match value {
        Value::String(text) => vec![text.clone()],
        Value::Sequence(items) => items
            .iter()
            .filter_map(|item| item.as_str().map(String::from))
            .collect(),
        _ => Vec::new(),
    }
}

fn policy_statements(function: &Value) -> Vec<&Value> {
    let policies = function["Properties"]["Policies"]
        .as_sequence()
        .expect("the function lists Policies");
    let mut statements = Vec::new();
    for policy in policies {
        let listed = policy["Statement"]
            .as_sequence()
            .expect("each policy is a document with a Statement list");
        statements.extend(listed);
    }
    statements
}

/// Appends every IAM action named anywhere under `value`.
fn collect_actions(value: &Value, actions: &mut Vec<String>) {
    match value {
        Value::Mapping(mapping) => {
            for (key, child) in mapping {
                if key.as_str() == Some("Action") {
                    actions.extend(strings(child));
                } else {
                    collect_actions(child, actions);
                }
            }
        }
        Value::Sequence(items) => items.iter().for_each(|item| collect_actions(item, actions)),
        Value::Tagged(tagged) => collect_actions(&tagged.value, actions),
        _ => {}
    }
}

/// Returns (path, method, operation) for every operation of an OpenAPI body.
fn operations(body: &Value) -> Vec<(String, String, &Value)> {
    let paths = body["paths"].as_mapping().expect("the API body has paths");
    let mut found = Vec::new();
    for (path, methods) in paths {
        let path = path.as_str().expect("paths are strings");
        for (method, operation) in methods.as_mapping().expect("each path maps methods") {
            let method = method.as_str().expect("methods are strings");
            found.push((path.to_string(), method.to_string(), operation));
        }
    }
    found
}
