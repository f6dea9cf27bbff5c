//! No drift between the code's routes and the deployment: every API route in `template.yaml`
//! is served by the same function in `shared::routes::ROUTES`, and every route of the code is
//! deployed, both as a function's `Api` event and as an operation of the API definition.

use std::collections::BTreeSet;

use serde_yaml_ng::Value;
use shared::routes::ROUTES;
use tests::template::{template, text};

/// (METHOD, path, function) as the template deploys them.
type Deployed = BTreeSet<(String, String, String)>;

/// The `Api` events of every function, named by the binary the function is built from.
fn api_events(template: &Value) -> Deployed {
    let resources = template["Resources"].as_mapping().expect("Resources is a mapping");
    let mut deployed = Deployed::new();
    for (id, resource) in resources {
        if resource["Type"].as_str() != Some("AWS::Serverless::Function") {
            continue;
        }
        let id = text(id, "a logical ID");
        let binary = text(&resource["Metadata"]["BuildProperties"]["Binary"], &format!("{id}'s Binary"));
        let Some(events) = resource["Properties"]["Events"].as_mapping() else { continue };
        for (name, event) in events {
            if event["Type"].as_str() != Some("Api") {
                continue;
            }
            let what = format!("{id}.Events.{}", text(name, "an event name"));
            let props = &event["Properties"];
            deployed.insert((
                text(&props["Method"], &format!("{what}.Method")).to_uppercase(),
                text(&props["Path"], &format!("{what}.Path")).to_owned(),
                binary.to_owned(),
            ));
        }
    }
    deployed
}

/// (METHOD, path) of every operation written in the API's definition body.
fn defined_operations(template: &Value) -> BTreeSet<(String, String)> {
    let paths = template["Resources"]["Api"]["Properties"]["DefinitionBody"]["paths"]
        .as_mapping()
        .expect("Api.DefinitionBody.paths is a mapping");
    let mut operations = BTreeSet::new();
    for (path, item) in paths {
        for (method, _) in item.as_mapping().expect("a path item is a mapping") {
            operations.insert((text(method, "a method").to_uppercase(), text(path, "a path").to_owned()));
        }
    }
    operations
}

fn code_routes() -> Deployed {
    ROUTES.iter().map(|r| (r.method.to_uppercase(), r.path.to_owned(), r.function.to_owned())).collect()
}

#[test]
fn every_template_route_has_a_handler_in_the_same_function() {
    let code = code_routes();
    for route in api_events(&template()) {
        assert!(code.contains(&route), "template.yaml deploys {route:?}, which shared::routes::ROUTES does not serve");
    }
}

#[test]
fn every_handler_route_is_deployed_by_the_template() {
    let deployed = api_events(&template());
    for route in code_routes() {
        assert!(
            deployed.contains(&route),
            "shared::routes::ROUTES serves {route:?}, which template.yaml does not deploy"
        );
    }
}

#[test]
fn the_api_definition_authorises_exactly_the_deployed_routes() {
    let template = template();
    let deployed: BTreeSet<_> = api_events(&template).into_iter().map(|(method, path, _)| (method, path)).collect();
    assert_eq!(
        defined_operations(&template),
        deployed,
        "Api.DefinitionBody.paths and the functions' Api events differ"
    );
}

#[test]
fn routes_are_unique() {
    let mut seen = BTreeSet::new();
    for route in ROUTES {
        assert!(seen.insert((route.method, route.path)), "{} {} is listed twice in ROUTES", route.method, route.path);
    }
}
