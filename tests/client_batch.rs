//! Personalised batches: one complete message per row, up to 1000 rows per call, sent as a
//! top-level JSON array and answered with `<base>`, `<base>_1`, ... transids.
#![cfg(feature = "sandbox")]
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::indexing_slicing,
    clippy::panic
)]

mod support;

#[path = "../examples/personalised_batch.rs"]
#[allow(dead_code, unreachable_pub, reason = "main is not run by the test")]
mod personalised_batch;

use std::collections::{BTreeMap, HashSet};

use futures_util::StreamExt as _;
use serde_json::{Value, json};
use webex_connect_whatsapp::client::{
    BatchRow, BulkRecipient, BulkResult, BulkStream, Client, Error, OutcomeUnknownReason,
};
use webex_connect_whatsapp::sandbox::Sandbox;
use webex_connect_whatsapp::send::ResponseCode;
use webex_connect_whatsapp::{
    Bsuid, CorrelationId, PhoneNumber, SessionMessage, TemplateId, TemplateMessage,
};
use wiremock::{Mock, MockServer, Request, ResponseTemplate, matchers::method};

const TEMPLATE: &str = "5139722425";

fn payment(name: &str, id: usize) -> TemplateMessage {
    TemplateMessage::builder(TemplateId::new(TEMPLATE).unwrap())
        .text("name", name)
        .text("payment", format!("A-{id}"))
        .build()
        .unwrap()
}

fn phone(i: usize) -> PhoneNumber {
    PhoneNumber::parse(&format!("+4474{i:08}")).unwrap()
}

async fn sandbox() -> Sandbox {
    Sandbox::builder()
        .template(TEMPLATE, ["name", "payment"])
        .start()
        .await
        .unwrap()
}

fn client_of(sandbox: &Sandbox) -> Client {
    sandbox.client_builder().build().unwrap()
}

async fn collect(stream: BulkStream) -> Vec<BulkResult> {
    let mut results: Vec<BulkResult> = stream.collect().await;
    results.sort_by_key(|r| r.index);
    results
}

/// The array lengths of the calls the sandbox received, in order.
fn call_sizes(sandbox: &Sandbox) -> Vec<usize> {
    sandbox
        .requests()
        .iter()
        .filter(|r| r.path.ends_with("/messaging"))
        .map(|r| {
            serde_json::from_str::<Value>(&r.body)
                .unwrap()
                .as_array()
                .map_or(0, Vec::len)
        })
        .collect()
}

#[tokio::test]
async fn a_2500_row_batch_goes_out_as_1000_1000_500() {
    let sandbox = sandbox().await;
    let client = client_of(&sandbox);
    let rows = (0..2500).map(|i| BatchRow::new(phone(i), payment(&format!("Customer {i}"), i)));
    let results = collect(client.batch().concurrency(1).send(rows)).await;
    assert_eq!(results.len(), 2500);
    assert!(results.iter().all(|r| r.result.is_ok()));
    assert_eq!(call_sizes(&sandbox), [1000, 1000, 500]);

    // Transids `<base>`, `<base>_1`, ... in row order; every row its own message.
    let transids: Vec<String> = results
        .iter()
        .map(|r| {
            r.result
                .as_ref()
                .unwrap()
                .transaction_id
                .as_ref()
                .unwrap()
                .to_string()
        })
        .collect();
    assert_eq!(transids.iter().collect::<HashSet<_>>().len(), 2500);
    let base = &transids[0];
    assert!(!base.contains('_'));
    assert_eq!(transids[1], format!("{base}_1"));
    assert_eq!(transids[999], format!("{base}_999"));
    assert!(
        !transids[1000].contains('_'),
        "the second call has a base of its own"
    );
    // The sandbox queued each row once, to its own recipient, with its own parameters.
    assert!(sandbox.queued_twice().is_empty());
    let m = sandbox
        .message_to(&transids[7].as_str().into(), "447400000007")
        .unwrap();
    assert_eq!(m.template_id.as_deref(), Some(TEMPLATE));
}

#[tokio::test]
async fn a_rejected_element_in_the_middle_is_that_rows_error() {
    let sandbox = sandbox().await;
    let client = client_of(&sandbox);
    let unknown_template = TemplateMessage::builder(TemplateId::new("999999").unwrap())
        .text("name", "Bob")
        .build()
        .unwrap();
    let rows = vec![
        BatchRow::new(phone(0), payment("Ada", 0)),
        BatchRow::new(phone(1), payment("Grace", 1)),
        BatchRow::new(phone(2), unknown_template),
        BatchRow::new(
            phone(3),
            SessionMessage::text("Your receipt is ready").unwrap(),
        ),
        BatchRow::new(
            Bsuid::new("US.13491208655302741918").unwrap(),
            payment("Ana", 4),
        ),
    ];
    let results = collect(client.batch().send(rows)).await;
    assert_eq!(call_sizes(&sandbox), [5], "one call for every row");
    for (i, r) in results.iter().enumerate() {
        if i == 2 {
            let e = r.result.as_ref().unwrap_err();
            assert_eq!(e.code(), Some(&ResponseCode::InvalidTemplateId), "{e}");
            assert!(!e.is_outcome_unknown());
        } else {
            assert!(r.result.is_ok(), "row {i}: {:?}", r.result);
        }
    }
    assert_eq!(results[4].recipient, "US.13491208655302741918");
    let transid = results[4]
        .result
        .as_ref()
        .unwrap()
        .transaction_id
        .clone()
        .unwrap();
    assert!(transid.as_str().ends_with("_4"), "{transid}");
    assert_eq!(sandbox.messages().len(), 4);
}

#[tokio::test]
async fn an_invalid_row_is_reported_alone_and_does_not_sink_its_call() {
    let sandbox = sandbox().await;
    let client = client_of(&sandbox);
    let rows = vec![
        BatchRow::new(
            BulkRecipient::Raw("+44 7400 000001".into()),
            payment("Ada", 1),
        ),
        BatchRow::new(BulkRecipient::Raw("12".into()), payment("Short code", 2)),
        BatchRow::new(BulkRecipient::Raw("US.a-b".into()), payment("Bad id", 3)),
        BatchRow::new(phone(4), payment("Grace", 4)),
    ];
    let results = collect(client.batch().send(rows)).await;
    assert!(results[0].result.is_ok());
    assert!(results[1].result.is_err());
    assert!(results[2].result.is_err());
    assert!(results[3].result.is_ok());
    assert_eq!(call_sizes(&sandbox), [2]);
}

#[tokio::test]
async fn an_ambiguous_failure_makes_every_row_unknown_and_is_not_resent() {
    for status in [500, 502, 503, 504] {
        let server = support::mock_answering_times(
            ResponseTemplate::new(status).set_body_string("Bad gateway"),
            1,
        )
        .await;
        let client = support::client(&server.uri());
        let rows = (0..3).map(|i| BatchRow::new(phone(i), payment("Ada", i)));
        let results = collect(client.batch().send(rows)).await;
        let ids: HashSet<String> = results
            .iter()
            .map(|r| {
                let e = r.result.as_ref().unwrap_err();
                assert!(e.is_outcome_unknown(), "{status}: {e}");
                e.correlation_id().unwrap().to_string()
            })
            .collect();
        assert_eq!(ids.len(), 3, "each row keeps its own correlation id");
    }
}

#[tokio::test]
async fn a_rate_limited_call_is_resent_whole() {
    let server = support::mock_first_then(
        ResponseTemplate::new(429).set_body_json(support::rejected("7020", "limit")),
        ResponseTemplate::new(200).set_body_json(json!({"response": [
            {"code": "1001", "transid": "t", "description": "Queued"},
            {"code": "1001", "transid": "t_1", "description": "Queued"}
        ]})),
    )
    .await;
    let client = support::client(&server.uri());
    let rows = (0..2).map(|i| BatchRow::new(phone(i), payment("Ada", i)));
    let results = collect(client.batch().send(rows)).await;
    assert_eq!(server.received_requests().await.unwrap().len(), 2);
    assert_eq!(
        results[1]
            .result
            .as_ref()
            .unwrap()
            .transaction_id
            .as_ref()
            .unwrap()
            .as_str(),
        "t_1"
    );
}

#[tokio::test]
async fn answers_that_echo_correlation_ids_are_matched_by_them() {
    // A server that answers in reverse order, echoing each element's correlation id.
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .respond_with(|request: &Request| {
            let body: Value = serde_json::from_slice(&request.body).unwrap();
            let entries: Vec<Value> = body
                .as_array()
                .unwrap()
                .iter()
                .rev()
                .map(|element| {
                    let id = element["destination"][0]["correlationid"].as_str().unwrap();
                    json!({"code": "1001", "transid": format!("t-{id}"), "correlationid": id})
                })
                .collect();
            ResponseTemplate::new(200).set_body_json(json!({ "response": entries }))
        })
        .mount(&server)
        .await;
    let client = support::client(&server.uri());
    let rows = (0..3).map(|i| {
        BatchRow::new(phone(i), payment("Ada", i))
            .correlation_id(CorrelationId::new(format!("row-{i}")).unwrap())
    });
    for r in collect(client.batch().send(rows)).await {
        let receipt = r.result.unwrap();
        assert_eq!(
            receipt.transaction_id.unwrap().as_str(),
            format!("t-row-{}", r.index),
            "matched by the echoed correlation id, not by position"
        );
    }
}

#[tokio::test]
async fn calls_are_capped_at_the_rate_limit() {
    let sandbox = Sandbox::builder()
        .template(TEMPLATE, ["name", "payment"])
        .tps_limit(25)
        .start()
        .await
        .unwrap();
    let client = sandbox.client_builder().rate_limit(25).build().unwrap();
    let rows = (0..60).map(|i| BatchRow::new(phone(i), payment("Ada", i)));
    let results = collect(client.batch().concurrency(1).send(rows)).await;
    assert!(results.iter().all(|r| r.result.is_ok()));
    // Never more destinations in one call than the TPS. (A call the sandbox's sliding second
    // refuses with 7020 is resent whole, so the number of calls may vary with timing.)
    let sizes = call_sizes(&sandbox);
    assert!(sizes.iter().all(|n| *n <= 25), "{sizes:?}");
    assert_eq!(&sizes[..2], [25, 25]);
    assert_eq!(sandbox.messages().len(), 60);
    assert!(sandbox.queued_twice().is_empty());
}

#[tokio::test]
async fn the_sandbox_refuses_calls_over_1000_destinations_or_the_tps() {
    let sandbox = Sandbox::builder()
        .template(TEMPLATE, ["name", "payment"])
        .tps_limit(10)
        .start()
        .await
        .unwrap();
    let element = |i: usize| {
        json!({
            "deliverychannel": "whatsapp",
            "appid": sandbox.app_id().as_str(),
            "destination": [{"waid": [format!("4474{i:08}")]}],
            "channels": {"OTT-Messaging": {"wa": {"type": "text", "text": {"body": "Hi"}}}}
        })
    };
    let post = |body: Value| {
        let url = sandbox.base_url().join("resources/v1/messaging").unwrap();
        let key = sandbox.service_key().to_owned();
        async move {
            let r = reqwest::Client::new()
                .post(url)
                .header("key", key)
                .json(&body)
                .send()
                .await
                .unwrap();
            r.json::<Value>().await.unwrap()
        }
    };
    let over_tps = post(Value::Array((0..11).map(element).collect())).await;
    assert_eq!(over_tps["response"]["code"], "7009", "{over_tps}");
    sandbox.set_tps_limit(None);
    let over_max = post(Value::Array((0..1001).map(element).collect())).await;
    assert_eq!(over_max["response"]["code"], "7009", "{over_max}");
    let fine = post(Value::Array((0..3).map(element).collect())).await;
    let entries = fine["response"].as_array().unwrap();
    let base = entries[0]["transid"].as_str().unwrap();
    assert_eq!(entries[2]["transid"], format!("{base}_2"));
    assert!(
        sandbox
            .messages()
            .iter()
            .all(|m| m.transaction_id.as_str().starts_with(base))
    );
}

/// The CSV example, run against the sandbox.
mod example {
    use super::*;

    fn csv_file(name: &str, text: &str) -> std::path::PathBuf {
        let dir = std::env::temp_dir().join(format!("wcwa-batch-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let path = dir.join(name);
        std::fs::write(&path, text).unwrap();
        path
    }

    /// Runs the example on a CSV file `name` holding `text`; returns its result and what it
    /// printed.
    async fn run_on(
        sandbox: &Sandbox,
        name: &str,
        text: &str,
    ) -> (
        Result<personalised_batch::Summary, personalised_batch::Failure>,
        String,
    ) {
        let path = csv_file(name, text);
        let args = [path.display().to_string(), TEMPLATE.to_owned()];
        let mut out = Vec::new();
        let mut progress =
            personalised_batch::Progress::new(Vec::new(), personalised_batch::ProgressStyle::Lines);
        let result =
            personalised_batch::run(&args, sandbox.client_builder(), &mut out, &mut progress).await;
        (result, String::from_utf8(out).unwrap())
    }

    #[tokio::test]
    async fn every_row_is_queued_and_printed() {
        let sandbox = sandbox().await;
        let (summary, out) = run_on(
            &sandbox,
            "ok.csv",
            "phone,name,payment\n+447400123456,Ada,A-1042\nUS.13491208655302741918,Grace,A-1043\n+44 7400 123457,Ana,A-1044\n",
        )
        .await;
        let summary = summary.unwrap();
        assert!(summary.all_queued(), "{out}");
        assert_eq!(summary.rows, 3);
        assert_eq!(out.lines().count(), 4, "{out}");
        assert!(out.contains("line 3\tUS.1****1918\tqueued\t"), "{out}");
        assert!(
            out.ends_with(
                "3 rows: 3 queued, 0 not queued, 0 outcome unknown (3 sent in this run)\n"
            )
        );
        // One call, and each row got its own parameters.
        assert_eq!(call_sizes(&sandbox), [3]);
        let body: Value = serde_json::from_str(&sandbox.requests()[0].body).unwrap();
        assert_eq!(body[1]["message"]["parameters"]["name"], "Grace");
        assert_eq!(
            body[1]["destination"][0]["bsuid"][0],
            "US.13491208655302741918"
        );
    }

    #[tokio::test]
    async fn bad_rows_are_reported_and_fail_the_run() {
        let sandbox = sandbox().await;
        let (summary, out) = run_on(
            &sandbox,
            "bad.csv",
            "phone,name,payment\n+447400123456,Ada,A-1042\n12,Short,A-1\n+447400123457,,A-1044\n",
        )
        .await;
        let summary = summary.unwrap();
        assert!(!summary.all_queued());
        assert_eq!(
            (summary.rows, summary.queued, summary.failed),
            (3, 1, 2),
            "{out}"
        );
        let counts: BTreeMap<&str, usize> = out.lines().fold(BTreeMap::new(), |mut m, line| {
            *m.entry(line.split('\t').nth(2).unwrap_or("summary"))
                .or_default() += 1;
            m
        });
        assert_eq!(counts.get("not queued"), Some(&2), "{out}");
    }

    #[tokio::test]
    async fn a_file_without_a_phone_column_is_refused() {
        let sandbox = sandbox().await;
        let e = run_on(&sandbox, "nophone.csv", "name,payment\nAda,A-1\n")
            .await
            .0
            .unwrap_err();
        assert!(e.to_string().contains("`phone`"), "{e}");
        assert_eq!(e.exit_code(), personalised_batch::EXIT_USAGE);
        assert!(sandbox.requests().is_empty());
    }
}

#[tokio::test]
async fn one_queued_object_for_a_whole_batch_leaves_every_row_unknown_and_is_not_resent() {
    // Queued, but not per element: which rows were queued cannot be told.
    let server = support::mock_answering_times(
        ResponseTemplate::new(200).set_body_json(
            json!({"response": {"code": "1001", "transid": "t", "description": "Queued"}}),
        ),
        1,
    )
    .await;
    let client = support::builder(&server.uri())
        .retry_policy(webex_connect_whatsapp::client::RetryPolicy::at_least_once())
        .build()
        .unwrap();
    let rows = (0..3).map(|i| BatchRow::new(phone(i), payment("Ada", i)));
    let results = collect(client.batch().send(rows)).await;
    assert_eq!(results.len(), 3);
    let mut ids = HashSet::new();
    for r in &results {
        let e = r.result.as_ref().unwrap_err();
        assert!(e.is_outcome_unknown(), "{e:?}");
        assert_eq!(
            e.outcome_unknown_reason(),
            Some(OutcomeUnknownReason::AmbiguousAnswer)
        );
        ids.insert(e.correlation_id().unwrap().clone());
    }
    assert_eq!(ids.len(), 3, "each row keeps its own correlation id");
}

#[tokio::test]
async fn rows_that_share_a_correlation_id_are_refused_and_the_rest_go_out() {
    let sandbox = sandbox().await;
    let client = client_of(&sandbox);
    let same = CorrelationId::new("invoice-7").unwrap();
    let rows = vec![
        BatchRow::new(phone(0), payment("Ada", 0)).correlation_id(same.clone()),
        BatchRow::new(phone(1), payment("Grace", 1)),
        BatchRow::new(phone(2), payment("Ana", 2)).correlation_id(same.clone()),
    ];
    let results = collect(client.batch().send(rows)).await;
    assert!(results[1].result.is_ok(), "{:?}", results[1].result);
    for (r, (first, second)) in [(&results[0], (0, 2)), (&results[2], (0, 2))] {
        let e = r.result.as_ref().unwrap_err();
        assert!(
            matches!(e, Error::DuplicateCorrelationId { correlation_id, first: f, second: s }
                if *correlation_id == same && (*f, *s) == (first, second)),
            "{e:?}"
        );
        assert!(!e.is_outcome_unknown());
    }
    assert_eq!(
        call_sizes(&sandbox),
        [1],
        "only the row with its own id was sent"
    );
}

#[tokio::test]
async fn rate_limit_entries_that_do_not_pair_with_the_rows_are_not_resent() {
    let server = support::mock_answering_times(
        ResponseTemplate::new(200).set_body_json(json!({"response": [
            {"code": "7020", "transid": "t", "description": "limit"},
            {"code": "7020", "transid": "t_1", "description": "limit"}
        ]})),
        1,
    )
    .await;
    let client = support::client(&server.uri());
    let rows = (0..3).map(|i| BatchRow::new(phone(i), payment("Ada", i)));
    for r in collect(client.batch().send(rows)).await {
        let e = r.result.unwrap_err();
        assert!(e.is_outcome_unknown(), "{e:?}");
    }
}
