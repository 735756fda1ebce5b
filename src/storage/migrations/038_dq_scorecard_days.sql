-- Scorecards over time (docs/data-quality.md, "Scorecards over time"): one point per scorecard and
-- UTC day, copied from dq_scorecard by the scorecard-history job. A later run on the same day
-- replaces the day's point, so a day holds the counters as the day's last run saw them.
CREATE TABLE dq_scorecard_day (
  scope        text NOT NULL CHECK (scope IN ('organisation', 'dno')),
  key          text NOT NULL,
  day          date NOT NULL,
  assets       bigint NOT NULL,
  score_sum    bigint NOT NULL,
  open_error   bigint NOT NULL,
  open_warning bigint NOT NULL,
  open_info    bigint NOT NULL,
  recorded_at  timestamptz NOT NULL,
  PRIMARY KEY (scope, key, day)
);
