//! Bedrock Batch Inference (feature `batch-inference`) against the local
//! server's S3 and control plane: what is uploaded, what the job is created
//! with, the polling, the join by record id, per-record errors, the limits
//! checked before anything is sent, and collecting from another Converser.

use std::time::Duration;

use bedrock_converse::batch::inference::{
    BatchInference, InferenceError, JobRequest, JobStatus, Limit, Limits,
};
use bedrock_converse::batch::{Record, RecordError};
use bedrock_converse::model::{S3Uri, S3UriError};
use bedrock_converse_mock::{MockServer, Reply};
use serde_json::{json, Value};

const ROLE: &str = "arn:aws:iam::000000000000:role/BatchRole";

fn records(n: usize) -> Vec<Record> {
    (0..n)
        .map(|i| {
            Record::new(
                format!("r{i:05}"),
                json!({"messages": [{"role": "user", "content": [{"text": format!("Say {i}")}]}],
                       "inferenceConfig": {"maxTokens": 20}}),
            )
        })
        .collect()
}

/// The client, on the local server's S3 and control plane.
fn make_jobs<'a>(
    server: &MockServer,
    converser: &'a bedrock_converse::Converser,
) -> BatchInference<'a> {
    BatchInference::new(converser)
        .endpoint(server.endpoint())
        .poll_interval(Duration::from_millis(1), Duration::from_millis(4))
}

/// A job named `name` under `s3://bucket/batches`.
fn job(name: &str) -> JobRequest {
    JobRequest::new("amazon.nova-lite-v1:0", "s3://bucket/batches", ROLE).job_name(name)
}

fn lines(bytes: &[u8]) -> Vec<Value> {
    let text = std::str::from_utf8(bytes).unwrap();
    assert!(text.ends_with('\n'), "JSONL ends with a newline");
    text.lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect()
}

#[test]
fn a_job_round_trips_uploaded_created_polled_and_joined_by_record_id() {
    let server = MockServer::start().unwrap();
    let converser = server.converser().unwrap();
    let input = records(120);
    let jobs = make_jobs(&server, &converser);
    let arn = jobs
        .submit(&job("job-1").timeout_hours(24), input.clone())
        .unwrap();
    assert_eq!(arn.job_id(), "mockjob00001");

    // The bytes in S3 are the records, one JSON line each, in order.
    let uploaded = server
        .s3_object("bucket", "batches/job-1/input.jsonl")
        .expect("uploaded");
    let expected: Vec<Value> = input
        .iter()
        .map(|r| json!({"recordId": r.id, "modelInput": r.model_input}))
        .collect();
    assert_eq!(lines(&uploaded), expected);

    // The job was created as a Converse job on that file, signed with the
    // Converser's credentials and region.
    let requests = server.requests();
    let create = requests
        .iter()
        .find(|r| r.method == "POST" && r.path == "/model-invocation-job")
        .expect("CreateModelInvocationJob");
    // The SDK adds an idempotency token of its own (kept across its retries).
    let mut body = create.body.clone();
    let token = body.as_object_mut().unwrap().remove("clientRequestToken");
    assert!(token.is_some_and(|t| t.as_str().is_some_and(|t| !t.is_empty())));
    assert_eq!(
        body,
        json!({
            "jobName": "job-1",
            "roleArn": ROLE,
            "modelId": "amazon.nova-lite-v1:0",
            "modelInvocationType": "Converse",
            "inputDataConfig": {"s3InputDataConfig": {
                "s3Uri": "s3://bucket/batches/job-1/input.jsonl", "s3InputFormat": "JSONL"}},
            "outputDataConfig": {"s3OutputDataConfig": {"s3Uri": "s3://bucket/batches/job-1/output/"}},
            "timeoutDurationInHours": 24,
        })
    );
    for request in requests
        .iter()
        .filter(|r| r.path.starts_with("/bucket/") || r.path == create.path)
    {
        let auth = request.header("authorization").unwrap_or_default();
        assert!(auth.contains("Credential=AKIDMOCKEXAMPLE/"), "{auth}");
        assert!(auth.contains("/us-east-1/"), "{auth}");
    }
    assert!(requests
        .iter()
        .any(|r| r.method == "PUT" && r.path == "/bucket/batches/job-1/input.jsonl"));

    // Polling goes through the states, one GetModelInvocationJob each.
    let mut seen = Vec::new();
    let last = jobs
        .wait(&arn, |s| seen.push((s.status.clone(), s.processed_records)))
        .unwrap();
    assert_eq!(
        seen,
        [
            (JobStatus::Submitted, Some(0)),
            (JobStatus::InProgress, Some(0)),
            (JobStatus::Completed, Some(120)),
        ]
    );
    assert_eq!(last.total_records, Some(120));
    let polls = server
        .requests()
        .iter()
        .filter(|r| r.method == "GET" && r.path.starts_with("/model-invocation-job/"))
        .count();
    assert_eq!(polls, 3);

    // The job wrote its output in another order than the input's...
    let out = server
        .s3_object(
            "bucket",
            "batches/job-1/output/mockjob00001/input.jsonl.out",
        )
        .expect("output written");
    let out_ids: Vec<String> = lines(&out)
        .iter()
        .map(|l| l["recordId"].as_str().unwrap().to_owned())
        .collect();
    let in_ids: Vec<String> = input.iter().map(|r| r.id.clone()).collect();
    assert_ne!(
        out_ids, in_ids,
        "the mock must scramble the order for this test to mean anything"
    );
    // ...and the results come back joined by id, in input order.
    let results = jobs.collect(&arn).unwrap();
    let ids: Vec<&str> = results.results.iter().map(|r| r.id.as_str()).collect();
    assert_eq!(ids, in_ids.iter().map(String::as_str).collect::<Vec<_>>());
    for (i, result) in results.results.iter().enumerate() {
        let response = result.outcome.as_ref().unwrap();
        assert_eq!(response.text(), format!("You said: Say {i}"));
        assert_eq!(result.model_input, input[i].model_input);
    }
    assert!(results.missing.is_empty());
    let manifest = results.manifest.expect("manifest.json.out");
    assert_eq!(
        (manifest.total_records, manifest.succeeded_records),
        (Some(120), Some(120))
    );
}

#[test]
fn per_record_errors_are_typed_and_records_without_output_are_reported() {
    let server = MockServer::start().unwrap();
    let converser = server.converser().unwrap();
    server.push(Reply::text("first"));
    server.push(Reply::error(400, "ValidationException", "bad input"));
    let jobs = make_jobs(&server, &converser);
    let arn = jobs.submit(&job("job-2"), records(100)).unwrap();
    jobs.wait(&arn, |_| {}).unwrap();
    // Drop one record's line from the output, as a job that ran out of time would.
    let key = "batches/job-2/output/mockjob00001/input.jsonl.out";
    let out = server.s3_object("bucket", key).unwrap();
    let kept: String = std::str::from_utf8(&out)
        .unwrap()
        .lines()
        .filter(|l| !l.contains("\"r00050\""))
        .map(|l| format!("{l}\n"))
        .collect();
    assert_eq!(kept.lines().count(), 99);
    server.put_s3_object("bucket", key, kept.into_bytes());

    let results = jobs.collect(&arn).unwrap();
    assert_eq!(results.results.len(), 100);
    assert_eq!(results.results[0].outcome.as_ref().unwrap().text(), "first");
    assert_eq!(
        results.results[1].outcome.as_ref().unwrap_err(),
        &RecordError {
            code: 400,
            message: "ValidationException: bad input".into()
        }
    );
    assert_eq!(results.missing, ["r00050"]);
    let missing = &results.results[50];
    assert_eq!(
        (missing.attempts, missing.outcome.as_ref().unwrap_err().code),
        (0, 0)
    );
    assert_eq!((results.succeeded(), results.failed()), (98, 2));
    // The output line format is the local runner's: an error line for each.
    let line: Value = serde_json::from_str(&results.results[1].to_json_line()).unwrap();
    assert_eq!(
        line["error"],
        json!({"errorCode": 400, "errorMessage": "ValidationException: bad input"})
    );
}

#[test]
fn limits_are_checked_before_anything_is_sent_and_the_server_refuses_the_same() {
    let server = MockServer::start().unwrap();
    let converser = server.converser().unwrap();
    let jobs = make_jobs(&server, &converser);
    let job3 = job("job-3");
    let err = jobs.submit(&job3, records(99)).unwrap_err();
    assert!(
        matches!(
            err,
            InferenceError::TooFewRecords {
                count: 99,
                min: 100
            }
        ),
        "{err}"
    );
    let mut tools = records(100);
    tools[7].model_input["toolConfig"] =
        json!({"tools": [{"toolSpec": {"name": "f", "inputSchema": {"json": {}}}}]});
    let err = jobs.submit(&job3, tools.clone()).unwrap_err();
    assert!(
        matches!(&err, InferenceError::ToolConfig { record } if record == "r00007"),
        "{err}"
    );
    let mut structured = records(100);
    structured[9].model_input["outputConfig"] = json!({"textFormat": {"type": "json_schema",
        "structure": {"jsonSchema": {"schema": "{\"type\":\"object\"}"}}}});
    let err = jobs.submit(&job3, structured.clone()).unwrap_err();
    assert!(
        matches!(&err, InferenceError::OutputConfig { record } if record == "r00009"),
        "{err}"
    );
    assert!(err.to_string().contains("r00009") && err.to_string().contains("structured output"));
    let small = job("job-3").limits(Limits {
        records_per_job: 50,
        ..Limits::default()
    });
    let err = jobs.submit(&small, records(100)).unwrap_err();
    assert!(
        matches!(
            err,
            InferenceError::Limit {
                limit: Limit::RecordsPerJob,
                value: 100,
                max: 50,
                record: None
            }
        ),
        "{err}"
    );
    assert_eq!(server.request_count(), 0, "nothing reached S3 or Bedrock");

    // Unchecked, the service refuses the same: the job outright...
    let unchecked = job3.skip_checks();
    let err = jobs.submit(&unchecked, records(99)).unwrap_err();
    match &err {
        InferenceError::Control {
            operation, code, ..
        } => {
            assert_eq!(
                (*operation, code.as_deref()),
                ("CreateModelInvocationJob", Some("ValidationException"))
            )
        }
        other => panic!("{other}"),
    }
    // ...and the tool-using record, with a 400 error line.
    let unchecked = job("job-4").skip_checks();
    let results = jobs.run(&unchecked, tools, |_| {}).unwrap();
    let error = results.results[7].outcome.as_ref().unwrap_err();
    assert_eq!(error.code, 400, "{error}");
    assert!(error.message.contains("toolConfig"), "{error}");
    assert_eq!(results.succeeded(), 99);
    // The structured-output record likewise.
    let unchecked = job("job-4s").skip_checks();
    let results = jobs.run(&unchecked, structured, |_| {}).unwrap();
    let error = results.results[9].outcome.as_ref().unwrap_err();
    assert_eq!(error.code, 400, "{error}");
    assert!(error.message.contains("outputConfig"), "{error}");
    assert_eq!(results.succeeded(), 99);
}

#[test]
fn records_past_the_per_file_limit_go_to_several_input_files() {
    let server = MockServer::start().unwrap();
    let converser = server.converser().unwrap();
    let input = records(100);
    let job5 = job("job-5").limits(Limits {
        records_per_file: 40,
        ..Limits::default()
    });
    let results = make_jobs(&server, &converser)
        .run(&job5, input.clone(), |_| {})
        .unwrap();
    assert_eq!(
        server.s3_keys("bucket", "batches/job-5/input/"),
        [
            "batches/job-5/input/records-00001.jsonl",
            "batches/job-5/input/records-00002.jsonl",
            "batches/job-5/input/records-00003.jsonl"
        ]
    );
    let counts: Vec<usize> = server
        .s3_keys("bucket", "batches/job-5/input/")
        .iter()
        .map(|k| lines(&server.s3_object("bucket", k).unwrap()).len())
        .collect();
    assert_eq!(counts, [40, 40, 20]);
    assert_eq!(
        server
            .s3_keys("bucket", "batches/job-5/output/mockjob00001/")
            .len(),
        4,
        "3 outputs and the manifest"
    );
    let ids: Vec<&str> = results.results.iter().map(|r| r.id.as_str()).collect();
    let expected: Vec<&str> = input.iter().map(|r| r.id.as_str()).collect();
    assert_eq!(ids, expected);
    assert_eq!(results.succeeded(), 100);
}

#[test]
fn a_job_s_output_listed_over_several_pages_is_collected_whole() {
    // S3 may return fewer keys a page than it could; the client follows the
    // continuation tokens, whatever the page size.
    for page in [1, 2, 3] {
        let server = MockServer::start().unwrap();
        server.set_s3_page_size(page);
        let converser = server.converser().unwrap();
        // 100 records (the service's minimum) in 4 input files: 4 outputs
        // and a manifest to list.
        let paged = job("paged").limits(Limits {
            records_per_file: 25,
            ..Limits::default()
        });
        let results = make_jobs(&server, &converser)
            .run(&paged, records(100), |_| {})
            .unwrap();
        assert_eq!(results.succeeded(), 100, "page of {page}");
        assert_eq!(results.results.len(), 100, "page of {page}");
    }
}

#[test]
fn a_job_submitted_by_one_converser_is_collected_by_another() {
    let server = MockServer::start().unwrap();
    let arn = {
        let converser = server.converser().unwrap();
        make_jobs(&server, &converser)
            .submit(&job("job-6"), records(100))
            .unwrap()
    };
    // A new Converser, knowing nothing but the ARN.
    let converser = server.converser().unwrap();
    let later = BatchInference::new(&converser)
        .endpoint(server.endpoint())
        .poll_interval(Duration::from_millis(1), Duration::from_millis(2));
    let err = later.collect(&arn).unwrap_err();
    assert!(
        matches!(
            &err,
            InferenceError::NoOutput {
                status: JobStatus::Submitted,
                ..
            }
        ),
        "{err}"
    );
    assert_eq!(
        later.wait(&arn, |_| {}).unwrap().status,
        JobStatus::Completed
    );
    let results = later.collect(&arn).unwrap();
    assert_eq!(results.results.len(), 100);
    assert_eq!(
        results.results[99].outcome.as_ref().unwrap().text(),
        "You said: Say 99"
    );

    // A stopped job: nothing ran, so every record is reported missing.
    let jobs = make_jobs(&server, &converser);
    let stopped = jobs.submit(&job("job-7"), records(100)).unwrap();
    jobs.stop(&stopped).unwrap();
    assert_eq!(jobs.status(&stopped).unwrap().status, JobStatus::Stopped);
    let results = jobs.collect(&stopped).unwrap();
    assert_eq!(results.missing.len(), 100);
    // An unknown job is the service's error, typed.
    let err = jobs
        .status(&bedrock_converse::batch::inference::JobArn::new(
            "arn:aws:bedrock:us-east-1:0:model-invocation-job/nope",
        ))
        .unwrap_err();
    assert!(
        matches!(&err, InferenceError::Control { code: Some(c), .. } if c == "ResourceNotFoundException"),
        "{err}"
    );
}

/// `wait` gives up when its limit passes or its token is cancelled, never
/// before the limit, and the job is left running in the service.
#[test]
fn wait_ends_at_its_limit_or_on_cancel_and_the_job_goes_on() {
    use bedrock_converse::CancelToken;
    use std::time::Instant;

    let server = MockServer::start().unwrap();
    server.set_batch_job_polls(1_000_000); // never finishes here
    let converser = server.converser().unwrap();

    // The limit: not before it, and not long after (polls every ≤ 20 ms).
    let jobs = make_jobs(&server, &converser)
        .poll_interval(Duration::from_millis(5), Duration::from_millis(20))
        .wait_limit(Duration::from_millis(300));
    let arn = jobs.submit(&job("job-wait-limit"), records(100)).unwrap();
    let mut polls = 0;
    let started = Instant::now();
    let err = jobs.wait(&arn, |_| polls += 1).unwrap_err();
    let took = started.elapsed();
    assert!(
        matches!(&err, InferenceError::WaitEnded { cancelled: false, last } if last.arn == arn),
        "{err}"
    );
    assert!(took >= Duration::from_millis(300), "ended early: {took:?}");
    assert!(took < Duration::from_secs(10), "{took:?}");
    assert!(polls >= 2, "it polled while it waited ({polls})");
    // The waits double from 5 ms up to 20 ms (5 + 10 + 14 * 20 < 300): at
    // most 17 naps, each followed by a poll.
    assert!(polls <= 18, "the waits between polls grow ({polls} polls)");
    assert!(err.to_string().contains("the job goes on"), "{err}");
    assert!(
        !jobs.status(&arn).unwrap().status.is_finished(),
        "the job was left running"
    );

    // A token that is never cancelled changes nothing: the same naps, and
    // the wait ends at its limit, not cancelled.
    let jobs = make_jobs(&server, &converser)
        .poll_interval(Duration::from_millis(5), Duration::from_millis(20))
        .wait_limit(Duration::from_millis(300))
        .cancel_token(CancelToken::new());
    let arn = jobs.submit(&job("job-wait-token"), records(100)).unwrap();
    let mut polls = 0;
    let started = Instant::now();
    let err = jobs.wait(&arn, |_| polls += 1).unwrap_err();
    assert!(
        matches!(
            &err,
            InferenceError::WaitEnded {
                cancelled: false,
                ..
            }
        ),
        "{err}"
    );
    assert!(started.elapsed() >= Duration::from_millis(300));
    assert!((2..=18).contains(&polls), "{polls} polls");

    // The token: a cancel ends a long nap at once, not at the next poll.
    let token = CancelToken::new();
    let jobs = make_jobs(&server, &converser)
        .poll_interval(Duration::from_secs(60), Duration::from_secs(60))
        .cancel_token(token.clone());
    let arn = jobs.submit(&job("job-wait-cancel"), records(100)).unwrap();
    let canceller = std::thread::spawn(move || {
        std::thread::sleep(Duration::from_millis(100));
        token.cancel();
    });
    let started = Instant::now();
    let err = jobs.wait(&arn, |_| {}).unwrap_err();
    canceller.join().unwrap();
    assert!(
        matches!(
            &err,
            InferenceError::WaitEnded {
                cancelled: true,
                ..
            }
        ),
        "{err}"
    );
    assert!(
        started.elapsed() < Duration::from_secs(30),
        "the 60 s nap was cut short: {:?}",
        started.elapsed()
    );
    assert!(!jobs.status(&arn).unwrap().status.is_finished());
}

#[test]
fn on_the_runtime_thread_its_calls_refuse_as_the_converse_methods_do() {
    use bedrock_converse::batch::inference::JobArn;
    use bedrock_converse::{ConverseRequest, Error};
    let server = MockServer::start().unwrap();
    server.push(Reply::text("hi"));
    let converser = server.converser().unwrap();
    let inner = converser.clone();
    let endpoint = server.endpoint();
    let (tx, rx) = std::sync::mpsc::channel();
    let mut once = Some(tx);
    // A spawn waker runs on the runtime thread, where blocking on it would
    // wait forever: the call is refused, naming the method, and nothing is
    // sent.
    let call = converser
        .spawn_with_waker(
            &ConverseRequest::new("amazon.nova-lite-v1:0").user("Hi"),
            move || {
                if let Some(tx) = once.take() {
                    let jobs = BatchInference::new(&inner).endpoint(endpoint.clone());
                    let arn = JobArn::new(
                        "arn:aws:bedrock:us-east-1:000000000000:model-invocation-job/abc",
                    );
                    let _ = tx.send((jobs.status(&arn).map(|_| ()), jobs.stop(&arn)));
                }
            },
        )
        .unwrap();
    call.wait().unwrap();
    let (status, stop) = rx.recv_timeout(Duration::from_secs(5)).unwrap();
    for (result, method) in [
        (status, "BatchInference::status"),
        (stop, "BatchInference::stop"),
    ] {
        match result {
            Err(InferenceError::Runtime {
                source: Error::WouldDeadlock { method: m },
            }) => assert_eq!(m, method),
            other => panic!("{method}: {other:?}"),
        }
    }
    assert_eq!(server.request_count(), 1, "only the spawned call was sent");
}

#[test]
fn a_bad_s3_location_is_a_typed_error_at_submit_and_nothing_is_sent() {
    let server = MockServer::start().unwrap();
    let converser = server.converser().unwrap();
    for (text, want) in [
        (
            "bucket/batches",
            S3UriError::NotS3 {
                uri: "bucket/batches".into(),
            },
        ),
        (
            "s3:///batches",
            S3UriError::NoBucket {
                uri: "s3:///batches".into(),
            },
        ),
    ] {
        let bad = JobRequest::new("amazon.nova-lite-v1:0", text, ROLE);
        let err = make_jobs(&server, &converser)
            .submit(&bad, records(100))
            .unwrap_err();
        assert!(
            matches!(&err, InferenceError::InvalidS3Uri(e) if *e == want),
            "{err:?}"
        );
        assert!(err.to_string().contains(text), "{err}");
    }
    assert_eq!(server.s3_keys("bucket", ""), Vec::<String>::new());
    // A typed location is taken as it is.
    let typed: S3Uri = "s3://bucket/typed".parse().unwrap();
    let typed = JobRequest::new("amazon.nova-lite-v1:0", typed, ROLE).job_name("typed");
    let jobs = make_jobs(&server, &converser);
    let arn = jobs.submit(&typed, records(100)).unwrap();
    let state = jobs.status(&arn).unwrap();
    assert_eq!(state.input_uri, "s3://bucket/typed/typed/input.jsonl");
}

#[test]
fn a_malformed_job_request_is_refused_at_submit_and_nothing_is_sent() {
    let server = MockServer::start().unwrap();
    let converser = server.converser().unwrap();
    let jobs = make_jobs(&server, &converser);
    for (job, want) in [
        (
            JobRequest::new("", "s3://bucket/batches", ROLE),
            "the model id is empty",
        ),
        (
            JobRequest::new("amazon.nova-lite-v1:0", "s3://bucket/batches", "BatchRole"),
            "role \"BatchRole\" is not an IAM role ARN",
        ),
        (job("bad name"), "job name \"bad name\""),
    ] {
        let err = jobs.submit(&job, records(100)).unwrap_err();
        assert!(
            matches!(&err, InferenceError::Config { message } if message.starts_with(want)),
            "{err}"
        );
    }
    assert_eq!(server.request_count(), 0, "nothing reached S3 or Bedrock");
}
