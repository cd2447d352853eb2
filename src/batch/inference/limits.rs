//! The service's limits on a job's records, checked before anything is
//! uploaded, and the split of the records into input files.

use std::collections::HashSet;

use super::error::{InferenceError, Limit};
use crate::batch::Record;

/// The service quotas a job must fit, checked locally before submitting.
///
/// The defaults are Bedrock's usual default quotas: the minimum of 100 and
/// the 1 GB / 5 GB sizes are the documented defaults; the 50,000 records
/// per file and per job are the commonly cited defaults, not re-checked
/// against the quotas page when this was written. Several are per model and
/// can be raised for an account (Service Quotas, "Amazon Bedrock", search
/// "batch inference"), so set what your account has.
///
/// ```
/// use bedrock_converse::batch::inference::Limits;
/// let limits = Limits { min_records: 10, ..Limits::default() };
/// assert_eq!(limits.records_per_file, 50_000);
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Limits {
    /// Minimum number of records per batch inference job (default 100).
    pub min_records: usize,
    /// Records per input file (default 50,000); more records are split
    /// into several files.
    pub records_per_file: usize,
    /// Records per batch inference job (default 50,000).
    pub records_per_job: usize,
    /// Bytes per input file (default 1 GB); larger inputs are split into
    /// several files.
    pub file_bytes: u64,
    /// Bytes of all input files of a job (default 5 GB).
    pub job_bytes: u64,
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            min_records: 100,
            records_per_file: 50_000,
            records_per_job: 50_000,
            file_bytes: 1_000_000_000,
            job_bytes: 5_000_000_000,
        }
    }
}

impl Limits {
    /// Checks `records` against the limits and Converse-job rules (no
    /// `toolConfig`, no `outputConfig`, unique ids), and lays them out as JSONL input files,
    /// each within the per-file limits.
    ///
    /// # Errors
    ///
    /// The first rule broken, naming the record where one is at fault.
    pub(super) fn plan(&self, records: &[Record]) -> Result<Vec<Vec<u8>>, InferenceError> {
        let mut seen = HashSet::with_capacity(records.len());
        let mut files: Vec<Vec<u8>> = Vec::new();
        let mut in_file = 0usize;
        let mut total = 0u64;
        for record in records {
            if record.model_input.get("toolConfig").is_some() {
                return Err(InferenceError::ToolConfig {
                    record: record.id.clone(),
                });
            }
            if record.model_input.get("outputConfig").is_some() {
                return Err(InferenceError::OutputConfig {
                    record: record.id.clone(),
                });
            }
            if !seen.insert(record.id.as_str()) {
                return Err(InferenceError::DuplicateRecordId {
                    record: record.id.clone(),
                });
            }
            let mut line = record.to_json_line().into_bytes();
            line.push(b'\n');
            let len = line.len() as u64;
            if len > self.file_bytes {
                return Err(InferenceError::Limit {
                    limit: Limit::FileBytes,
                    record: Some(record.id.clone()),
                    value: len,
                    max: self.file_bytes,
                });
            }
            total += len;
            if total > self.job_bytes {
                return Err(InferenceError::Limit {
                    limit: Limit::JobBytes,
                    record: Some(record.id.clone()),
                    value: total,
                    max: self.job_bytes,
                });
            }
            let fits = files.last().is_some_and(|f| {
                in_file < self.records_per_file.max(1) && f.len() as u64 + len <= self.file_bytes
            });
            if !fits {
                files.push(Vec::new());
                in_file = 0;
            }
            let file = files.last_mut().expect("a file was just pushed");
            file.extend_from_slice(&line);
            in_file += 1;
        }
        if records.len() > self.records_per_job {
            return Err(InferenceError::Limit {
                limit: Limit::RecordsPerJob,
                record: None,
                value: records.len() as u64,
                max: self.records_per_job as u64,
            });
        }
        if records.len() < self.min_records {
            return Err(InferenceError::TooFewRecords {
                count: records.len(),
                min: self.min_records,
            });
        }
        Ok(files)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn records(n: usize) -> Vec<Record> {
        (0..n)
            .map(|i| {
                Record::new(
                    format!("r{i}"),
                    json!({"messages": [{"role": "user", "content": [{"text": "hi"}]}]}),
                )
            })
            .collect()
    }

    #[test]
    fn records_are_split_by_count_and_by_bytes() {
        let limits = Limits {
            min_records: 1,
            records_per_file: 4,
            ..Limits::default()
        };
        let files = limits.plan(&records(10)).unwrap();
        let lines: Vec<usize> = files
            .iter()
            .map(|f| f.split(|b| *b == b'\n').count() - 1)
            .collect();
        assert_eq!(lines, [4, 4, 2]);
        let one = records(1)[0].to_json_line().len() as u64 + 1;
        let limits = Limits {
            min_records: 1,
            file_bytes: one * 3,
            ..Limits::default()
        };
        let files = limits.plan(&records(7)).unwrap();
        assert_eq!(files.iter().map(Vec::len).collect::<Vec<_>>().len(), 3);
        assert!(files.iter().all(|f| f.len() as u64 <= one * 3));
    }

    #[test]
    fn each_rule_names_what_broke_it() {
        let limits = Limits::default();
        assert!(matches!(
            limits.plan(&records(99)),
            Err(InferenceError::TooFewRecords {
                count: 99,
                min: 100
            })
        ));
        let small = Limits {
            min_records: 1,
            records_per_job: 5,
            ..limits
        };
        assert!(matches!(
            small.plan(&records(6)),
            Err(InferenceError::Limit {
                limit: Limit::RecordsPerJob,
                value: 6,
                max: 5,
                ..
            })
        ));
        let mut rs = records(3);
        rs[2].id = "r0".into();
        assert!(
            matches!(small.plan(&rs), Err(InferenceError::DuplicateRecordId { record }) if record == "r0")
        );
        let mut rs = records(3);
        rs[1].model_input["toolConfig"] = json!({"tools": []});
        assert!(
            matches!(small.plan(&rs), Err(InferenceError::ToolConfig { record }) if record == "r1")
        );
        let mut rs = records(3);
        rs[2].model_input["outputConfig"] = json!({"effort": "low"});
        assert!(
            matches!(small.plan(&rs), Err(InferenceError::OutputConfig { record }) if record == "r2")
        );
        let tiny = Limits {
            min_records: 1,
            file_bytes: 10,
            ..limits
        };
        assert!(matches!(
            tiny.plan(&records(1)),
            Err(InferenceError::Limit { limit: Limit::FileBytes, record: Some(r), .. }) if r == "r0"
        ));
        let job = Limits {
            min_records: 1,
            job_bytes: 150,
            ..limits
        };
        let err = job.plan(&records(5)).unwrap_err();
        assert!(
            matches!(
                err,
                InferenceError::Limit {
                    limit: Limit::JobBytes,
                    ..
                }
            ),
            "{err}"
        );
    }

    /// The byte length of record `i`'s line, newline included.
    fn line_len(r: &Record) -> u64 {
        r.to_json_line().len() as u64 + 1
    }

    fn lines_per_file(files: &[Vec<u8>]) -> Vec<usize> {
        files
            .iter()
            .map(|f| f.iter().filter(|b| **b == b'\n').count())
            .collect()
    }

    #[test]
    fn every_limit_holds_at_its_value_and_breaks_one_past_it() {
        let rs = records(6);
        let one = line_len(&rs[0]);
        assert!(rs.iter().all(|r| line_len(r) == one), "equal lines");
        let exact = Limits {
            min_records: 6,
            records_per_file: 3,
            records_per_job: 6,
            file_bytes: one * 3,
            job_bytes: one * 6,
        };
        let files = exact.plan(&rs).unwrap();
        assert_eq!(lines_per_file(&files), [3, 3]);
        assert_eq!(
            files.concat(),
            rs.iter()
                .map(|r| format!("{}\n", r.to_json_line()))
                .collect::<String>()
                .into_bytes()
        );

        // A file holds what fits: by count and by bytes, whichever is first.
        let by_count = Limits {
            records_per_file: 2,
            ..exact
        };
        assert_eq!(lines_per_file(&by_count.plan(&rs).unwrap()), [2, 2, 2]);
        let by_bytes = Limits {
            file_bytes: one * 3 - 1,
            ..exact
        };
        assert_eq!(lines_per_file(&by_bytes.plan(&rs).unwrap()), [2, 2, 2]);
        let one_each = Limits {
            file_bytes: one,
            ..exact
        };
        assert_eq!(lines_per_file(&one_each.plan(&rs).unwrap()), [1; 6]);
        // No more than one record per file is not "none".
        let zero = Limits {
            records_per_file: 0,
            ..exact
        };
        assert_eq!(lines_per_file(&zero.plan(&rs).unwrap()), [1; 6]);
        let roomy = Limits {
            records_per_file: 6,
            file_bytes: one * 6,
            ..exact
        };
        assert_eq!(lines_per_file(&roomy.plan(&rs).unwrap()), [6]);

        let small_file = Limits {
            file_bytes: one - 1,
            ..exact
        };
        assert!(matches!(
            small_file.plan(&rs),
            Err(InferenceError::Limit { limit: Limit::FileBytes, record: Some(r), value, max })
                if r == "r0" && value == one && max == one - 1
        ));
        let small_job = Limits {
            job_bytes: one * 6 - 1,
            ..exact
        };
        assert!(matches!(
            small_job.plan(&rs),
            Err(InferenceError::Limit { limit: Limit::JobBytes, record: Some(r), value, max })
                if r == "r5" && value == one * 6 && max == one * 6 - 1
        ));
        let few = Limits {
            records_per_job: 5,
            min_records: 1,
            ..exact
        };
        assert!(matches!(
            few.plan(&rs),
            Err(InferenceError::Limit {
                limit: Limit::RecordsPerJob,
                record: None,
                value: 6,
                max: 5
            })
        ));
        let many = Limits {
            min_records: 7,
            ..exact
        };
        assert!(matches!(
            many.plan(&rs),
            Err(InferenceError::TooFewRecords { count: 6, min: 7 })
        ));
    }

    #[test]
    fn a_broken_limit_says_which_what_and_by_how_much() {
        let rs = records(2);
        let one = line_len(&rs[0]);
        let tiny = Limits {
            min_records: 1,
            file_bytes: 10,
            ..Limits::default()
        };
        assert_eq!(
            tiny.plan(&rs).unwrap_err().to_string(),
            format!("record \"r0\" exceeds the batch inference limit input file size (bytes): {one} > 10")
        );
        let job = Limits {
            min_records: 1,
            job_bytes: one,
            ..Limits::default()
        };
        assert_eq!(
            job.plan(&rs).unwrap_err().to_string(),
            format!(
                "record \"r1\" exceeds the batch inference limit job size (bytes): {} > {one}",
                one * 2
            )
        );
        let count = Limits {
            min_records: 1,
            records_per_job: 1,
            ..Limits::default()
        };
        assert_eq!(
            count.plan(&rs).unwrap_err().to_string(),
            "the job exceeds the batch inference limit records per job: 2 > 1"
        );
    }
}
