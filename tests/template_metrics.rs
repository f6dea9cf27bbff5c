//! No drift between the metrics the code writes and the ones the deployment reads: every metric,
//! dimension set and namespace that `template.yaml`'s dashboard and alarms use is one that
//! `shared::metrics` writes, and every metric it writes is on the dashboard or in an alarm.

use std::collections::{BTreeMap, BTreeSet};

use serde_json::Value as Json;
use serde_yaml_ng::Value;
use shared::metrics::{self, ALL, DEFAULT_NAMESPACE, DIMENSION_SETS};
use tests::template::{template, text};

/// The text of an `Fn::Sub` (`!Sub text` or `!Sub [text, {variables}]`) and its variables.
fn sub(value: &Value, what: &str) -> (String, BTreeMap<String, Value>) {
    let Value::Tagged(tagged) = value else { panic!("{what} is not a !Sub: {value:?}") };
    assert!(tagged.tag == "Sub", "{what} is a {}, not a !Sub", tagged.tag);
    match &tagged.value {
        Value::String(s) => (s.clone(), BTreeMap::new()),
        Value::Sequence(items) if items.len() == 2 => {
            let variables = items[1]
                .as_mapping()
                .unwrap_or_else(|| panic!("{what}: the !Sub variables are not a mapping"))
                .iter()
                .map(|(k, v)| (text(k, "a !Sub variable name").to_owned(), v.clone()))
                .collect();
            (text(&items[0], what).to_owned(), variables)
        }
        other => panic!("{what}: unexpected !Sub form {other:?}"),
    }
}

fn resources_of<'a>(template: &'a Value, kind: &str) -> Vec<(&'a str, &'a Value)> {
    let resources = template["Resources"].as_mapping().expect("Resources is a mapping");
    resources
        .iter()
        .filter(|(_, r)| r["Type"].as_str() == Some(kind))
        .map(|(id, r)| (text(id, "a logical ID"), r))
        .collect()
}

/// The binaries the template deploys (`BuildProperties.Binary`): the `Function` dimension's values.
fn binaries(template: &Value) -> BTreeSet<String> {
    resources_of(template, "AWS::Serverless::Function")
        .into_iter()
        .map(|(id, r)| text(&r["Metadata"]["BuildProperties"]["Binary"], &format!("{id}'s Binary")).to_owned())
        .collect()
}

/// `METRICS_NAMESPACE` as the functions get it: the text of its `!Sub`.
fn namespace(template: &Value) -> String {
    let value = &template["Globals"]["Function"]["Environment"]["Variables"]["METRICS_NAMESPACE"];
    let (namespace, variables) = sub(value, "Globals METRICS_NAMESPACE");
    assert!(variables.is_empty(), "METRICS_NAMESPACE: use the short !Sub form");
    namespace
}

/// One metric that the dashboard or an alarm reads.
#[derive(Debug)]
struct Read {
    place: String,
    namespace: String,
    metric: String,
    dimensions: BTreeSet<String>,
    /// The `Function` values it names (none for a SEARCH, which matches them all).
    functions: Vec<String>,
}

/// `SEARCH('{namespace,Dim,...} MetricName="X"', 'Stat', period)`: namespace, dimensions, metric.
fn parse_search(expression: &str, place: &str) -> (String, BTreeSet<String>, String) {
    let shape = "write SEARCH('{\"namespace\",Dim,...} MetricName=\"X\"', 'Stat', period)";
    let rest = expression
        .strip_prefix("SEARCH('{")
        .unwrap_or_else(|| panic!("{place}: `{expression}` is not a SEARCH expression; {shape}"));
    let (schema, rest) =
        rest.split_once("} MetricName=\"").unwrap_or_else(|| panic!("{place}: `{expression}`: {shape}"));
    let (metric, _) = rest.split_once('"').unwrap_or_else(|| panic!("{place}: `{expression}`: {shape}"));
    let mut parts = schema.split(',');
    let namespace = parts.next().unwrap_or_default().trim_matches('"').to_owned();
    (namespace, parts.map(str::to_owned).collect(), metric.to_owned())
}

/// Every metric of the dashboard's metric widgets, with `${Namespace}` resolved through the
/// dashboard's own `!Sub` variable.
fn dashboard_reads(template: &Value) -> Vec<Read> {
    let boards = resources_of(template, "AWS::CloudWatch::Dashboard");
    assert_eq!(boards.len(), 1, "one dashboard");
    let (id, board) = boards[0];
    let (body, variables) = sub(&board["Properties"]["DashboardBody"], &format!("{id}.DashboardBody"));
    let resolve = |written: &str| -> String {
        match written.strip_prefix("${").and_then(|n| n.strip_suffix('}')) {
            Some(name) => {
                let value = variables.get(name).unwrap_or_else(|| panic!("{id}: ${{{name}}} is not a !Sub variable"));
                sub(value, &format!("{id}'s {name}")).0
            }
            None => written.to_owned(),
        }
    };
    let body: Json = serde_json::from_str(&body).unwrap_or_else(|e| panic!("{id}.DashboardBody is not JSON: {e}"));
    let mut reads = Vec::new();
    for widget in body["widgets"].as_array().expect("the dashboard has widgets") {
        if widget["type"] != "metric" {
            continue;
        }
        let place = format!("{id} widget {}", widget["properties"]["title"]);
        for line in widget["properties"]["metrics"].as_array().unwrap_or_else(|| panic!("{place}: no metrics")) {
            let line = line.as_array().unwrap_or_else(|| panic!("{place}: a metric is not an array"));
            if let Some(expression) = line[0].get("expression") {
                let expression = expression.as_str().expect("an expression is a string");
                let (namespace, dimensions, metric) = parse_search(expression, &place);
                reads.push(Read {
                    place: place.clone(),
                    namespace: resolve(&namespace),
                    metric,
                    dimensions,
                    functions: vec![],
                });
                continue;
            }
            let strings: Vec<&str> = line.iter().map_while(Json::as_str).collect();
            assert!(
                strings.len() >= 2 && strings.len().is_multiple_of(2) && !strings.contains(&"."),
                "{place}: write each metric out in full, [namespace, name, dimension, value, ..., {{options}}]: {line:?}"
            );
            let pairs: Vec<(&str, &str)> = strings[2..].chunks(2).map(|p| (p[0], p[1])).collect();
            reads.push(Read {
                place: place.clone(),
                namespace: resolve(strings[0]),
                metric: strings[1].to_owned(),
                dimensions: pairs.iter().map(|(name, _)| (*name).to_owned()).collect(),
                functions: pairs
                    .iter()
                    .filter(|(name, _)| *name == metrics::FUNCTION)
                    .map(|(_, v)| (*v).to_owned())
                    .collect(),
            });
        }
    }
    reads
}

/// Every metric an alarm reads, from its metric-math queries or its single metric.
fn alarm_reads(template: &Value) -> BTreeMap<String, Vec<Read>> {
    let mut alarms = BTreeMap::new();
    for (id, alarm) in resources_of(template, "AWS::CloudWatch::Alarm") {
        let props = &alarm["Properties"];
        let metrics: Vec<&Value> = match props["Metrics"].as_sequence() {
            Some(queries) => queries.iter().filter_map(|q| q.get("MetricStat")).map(|s| &s["Metric"]).collect(),
            None => vec![props],
        };
        let reads = metrics
            .into_iter()
            .map(|metric| {
                let dimensions: Vec<(String, String)> = metric["Dimensions"]
                    .as_sequence()
                    .unwrap_or_else(|| panic!("{id}: a metric without dimensions"))
                    .iter()
                    .map(|d| (text(&d["Name"], id).to_owned(), text(&d["Value"], id).to_owned()))
                    .collect();
                Read {
                    place: format!("alarm {id}"),
                    namespace: sub(&metric["Namespace"], &format!("{id}'s Namespace")).0,
                    metric: text(&metric["MetricName"], &format!("{id}'s MetricName")).to_owned(),
                    dimensions: dimensions.iter().map(|(name, _)| name.clone()).collect(),
                    functions: dimensions
                        .iter()
                        .filter(|(name, _)| name == metrics::FUNCTION)
                        .map(|(_, value)| value.clone())
                        .collect(),
                }
            })
            .collect();
        alarms.insert(id.to_owned(), reads);
    }
    alarms
}

fn every_read(template: &Value) -> Vec<Read> {
    let mut reads = dashboard_reads(template);
    reads.extend(alarm_reads(template).into_values().flatten());
    reads
}

#[test]
fn the_functions_write_to_a_namespace_of_their_own_stack() {
    let namespace = namespace(&template());
    assert_eq!(
        namespace,
        format!("{DEFAULT_NAMESPACE}/${{AWS::StackName}}"),
        "METRICS_NAMESPACE should be the code's default namespace, per stack"
    );
}

#[test]
fn every_metric_the_template_reads_is_one_the_code_writes() {
    let template = template();
    let namespace = namespace(&template);
    let functions = binaries(&template);
    let written: BTreeSet<&str> = ALL.iter().map(|m| m.name).collect();
    let sets: Vec<BTreeSet<String>> =
        DIMENSION_SETS.iter().map(|set| set.iter().map(|d| (*d).to_owned()).collect()).collect();
    let reads = every_read(&template);
    assert!(!reads.is_empty(), "the template reads no metric");
    for read in reads {
        let Read { place, metric, .. } = &read;
        assert!(written.contains(metric.as_str()), "{place} reads {metric}, which shared::metrics::ALL does not write");
        assert!(
            sets.contains(&read.dimensions),
            "{place} reads {metric} with dimensions {:?}, not one of shared::metrics::DIMENSION_SETS {DIMENSION_SETS:?}",
            read.dimensions
        );
        assert_eq!(read.namespace, namespace, "{place} reads {metric} from another namespace than METRICS_NAMESPACE");
        for function in &read.functions {
            assert!(functions.contains(function), "{place}: Function={function} is none of the deployed {functions:?}");
        }
    }
}

#[test]
fn every_metric_the_code_writes_is_on_the_dashboard_or_in_an_alarm() {
    let read: BTreeSet<String> = every_read(&template()).into_iter().map(|r| r.metric).collect();
    for metric in ALL {
        assert!(
            read.contains(metric.name),
            "shared::metrics writes {}, which no dashboard widget or alarm shows",
            metric.name
        );
    }
}

#[test]
fn cost_per_model_reads_the_model_dimension_set() {
    let model_set: BTreeSet<String> = DIMENSION_SETS[0].iter().map(|d| (*d).to_owned()).collect();
    assert!(model_set.contains(metrics::MODEL));
    let cost = dashboard_reads(&template())
        .into_iter()
        .find(|r| r.metric == metrics::COST.name && r.dimensions == model_set)
        .expect("a dashboard widget reads CostUSD per Function, Model and Route");
    assert!(cost.functions.is_empty(), "{}: a SEARCH over every function and model", cost.place);
}

#[test]
fn every_function_alarms_on_its_5xx_rate_and_its_throttle_rate() {
    let template = template();
    let alarms = alarm_reads(&template);
    for function in binaries(&template) {
        for failure in [metrics::SERVER_ERRORS, metrics::THROTTLES] {
            let found = alarms.values().any(|reads| {
                let names: BTreeSet<&str> = reads.iter().map(|r| r.metric.as_str()).collect();
                names == BTreeSet::from([failure.name, metrics::REQUESTS.name])
                    && reads.iter().all(|r| r.functions == [function.clone()])
            });
            assert!(found, "no alarm on {} / {} of the {function} function", failure.name, metrics::REQUESTS.name);
        }
    }
}

#[test]
fn cost_per_key_sums_the_key_property_and_the_cost_the_functions_write() {
    let template = template();
    let (_, board) = resources_of(&template, "AWS::CloudWatch::Dashboard")[0];
    let (body, _) = sub(&board["Properties"]["DashboardBody"], "DashboardBody");
    let body: Json = serde_json::from_str(&body).unwrap();
    let logs: Vec<&Json> = body["widgets"].as_array().unwrap().iter().filter(|w| w["type"] == "log").collect();
    assert_eq!(logs.len(), 1, "one Logs Insights widget: cost per key");
    let query = logs[0]["properties"]["query"].as_str().unwrap();
    for read in [metrics::KEY_ID, metrics::COST.name] {
        assert!(query.contains(read), "the widget reads {read}, which every record carries: {query}");
    }
    for group in ["ConverseLogGroup", "StreamLogGroup", "ToolsLogGroup"] {
        assert!(query.contains(&format!("SOURCE '${{{group}}}'")), "{group} is searched: {query}");
    }
}
