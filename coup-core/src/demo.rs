//! Demo data: a small, believable platform to click through.
//!
//! This is **demo data**. It is only ever seeded when someone explicitly asks for it
//! (the server's `--demo` flag, a test, an example); no production path calls
//! [`seed`]. Everything is created through the real service operations via
//! [`Core`], so every rule is checked, every domain event is raised and every
//! notification is written exactly as if people had done it by hand.
//!
//! What [`seed`] creates:
//!
//! - 10 accounts, all with the password [`DEMO_PASSWORD`]: [`DEMO_EMAIL`] (김민수,
//!   the account to log in with) and [`ADMIN_EMAIL`] (a SYSTEM_ADMIN), plus eight
//!   more. Names are one word so `@mentions` work.
//! - 8 studies (public and private, AUTO and APPROVAL). 김민수 is an active member
//!   of 6: OWNER of 2, ADMIN of 1, MEMBER of 3; one study he owns has a join request
//!   waiting for him.
//! - In each study: members, notices (one pinned), calendar events in the coming
//!   two weeks, and a chat with `@mentions`.
//! - Tasks for 김민수, some tied to studies, some done.
//! - Files, only when a blob directory is given (see [`seed`]).
//! - One report waiting for the admin.
//!
//! Seeding is idempotent: when [`DEMO_EMAIL`] exists, [`seed`] writes nothing. It
//! is not atomic (each step is its own transaction, as in real use), so a seed that
//! fails half way should be retried on a fresh database.

use std::fmt;
use std::path::Path;

use chrono::{DateTime, Duration, DurationRound, Utc};

use crate::core::Core;
use crate::error::{Error, Result};
use crate::events::{DomainEvent, Outcome};
use crate::ids::{MessageId, StudyId, UserId};
use crate::model::{JoinPolicy, PlatformRole, Priority, ReportTarget, StudyRole};
use crate::service;
use crate::service::accounts::{self, Signup};
use crate::service::calendar::NewEvent;
use crate::service::chat::SendMessage;
use crate::service::files::NewFile;
use crate::service::membership::{JoinRequest, RoleChange};
use crate::service::notices::NewNotice;
use crate::service::reports::NewReport;
use crate::service::studies::NewStudy;
use crate::service::tasks::NewTask;
use crate::store::Tx;

/// The password of every demo account.
pub const DEMO_PASSWORD: &str = "study-together-42";
/// The demo account to log in with (김민수). Its existence marks a seeded database.
pub const DEMO_EMAIL: &str = "kim@example.com";
/// The demo SYSTEM_ADMIN account.
pub const ADMIN_EMAIL: &str = "admin@example.com";

/// What [`seed`] did. The counts are what this call created, so they are all zero
/// when the database was already seeded.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct SeedReport {
    /// The demo data was already there; nothing was written.
    pub already_seeded: bool,
    /// Accounts created.
    pub users: usize,
    /// Studies created.
    pub studies: usize,
    /// Chat messages sent.
    pub messages: usize,
    /// Notices posted.
    pub notices: usize,
    /// Calendar events created.
    pub events: usize,
    /// Tasks created.
    pub tasks: usize,
    /// Files stored and registered (zero without a blob directory).
    pub files: usize,
    /// Notifications the operations caused.
    pub notifications: usize,
}

impl fmt::Display for SeedReport {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.already_seeded {
            return write!(
                f,
                "demo data already present ({DEMO_EMAIL} exists); nothing written"
            );
        }
        write!(
            f,
            "demo data: {} users, {} studies, {} messages, {} notices, {} events, {} tasks, {} files, \
             {} notifications; log in as {DEMO_EMAIL} / {DEMO_PASSWORD}",
            self.users,
            self.studies,
            self.messages,
            self.notices,
            self.events,
            self.tasks,
            self.files,
            self.notifications
        )
    }
}

// Indexes into `USERS` (1 is the admin, who only processes reports).
const KIM: usize = 0;
const LEE: usize = 2;
const PARK: usize = 3;
const CHOI: usize = 4;
const JUNG: usize = 5;
const ALEX: usize = 6;
const EMMA: usize = 7;
const DAVID: usize = 8;
const SOPHIA: usize = 9;

/// Email, one-word name, platform role.
const USERS: [(&str, &str, PlatformRole); 10] = [
    (DEMO_EMAIL, "김민수", PlatformRole::User),
    (ADMIN_EMAIL, "관리자", PlatformRole::SystemAdmin),
    ("lee@example.com", "이서연", PlatformRole::User),
    ("park@example.com", "박지훈", PlatformRole::User),
    ("choi@example.com", "최유나", PlatformRole::User),
    ("jung@example.com", "정다은", PlatformRole::User),
    ("alex@example.com", "Alex", PlatformRole::User),
    ("emma@example.com", "Emma", PlatformRole::User),
    ("david@example.com", "David", PlatformRole::User),
    ("sophia@example.com", "Sophia", PlatformRole::User),
];

/// A notice: author, title, content, pinned.
type NoticeSpec = (usize, &'static str, &'static str, bool);

/// A calendar event: creator, title, description, days from today, start hour (KST),
/// length in hours (0 = all day), location.
type EventSpec = (
    usize,
    &'static str,
    &'static str,
    i64,
    i64,
    i64,
    &'static str,
);

/// A study and what happens in it.
struct StudySpec {
    owner: usize,
    name: &'static str,
    description: &'static str,
    category: &'static str,
    tags: &'static [&'static str],
    max_members: u32,
    is_public: bool,
    join_policy: JoinPolicy,
    /// Who joins and ends up ACTIVE (approved by the owner in APPROVAL studies, by
    /// invite code in private ones).
    members: &'static [usize],
    /// Members the owner makes ADMIN.
    admins: &'static [usize],
    /// Who asks to join and is left waiting, with their message.
    pending: &'static [(usize, &'static str)],
    notices: &'static [NoticeSpec],
    events: &'static [EventSpec],
    /// Author and text.
    chat: &'static [(usize, &'static str)],
}

const STUDIES: [StudySpec; 8] = [
    StudySpec {
        owner: KIM,
        name: "알고리즘 코딩테스트 스터디",
        description: "매주 백준/프로그래머스 문제 5개를 풀고 일요일 밤에 풀이를 공유합니다. \
                      하반기 공채 코딩테스트 합격이 목표입니다.",
        category: "프로그래밍",
        tags: &["algorithm", "코딩테스트", "python", "java"],
        max_members: 10,
        is_public: true,
        join_policy: JoinPolicy::Auto,
        members: &[LEE, PARK, ALEX],
        admins: &[],
        pending: &[],
        notices: &[
            (
                KIM,
                "스터디 진행 방식 안내",
                "1. 매주 월요일 문제 공지\n2. 일요일 21시까지 풀이 업로드\n3. 일요일 22시 온라인 리뷰\n\n두 주 연속 미제출 시 경고가 있어요!",
                true,
            ),
            (
                KIM,
                "이번 주 문제: 그래프 탐색",
                "BFS/DFS 기본 문제 3개와 응용 2개입니다. 문제 링크는 채팅방에 올려둘게요.",
                false,
            ),
        ],
        events: &[
            (
                KIM,
                "주간 풀이 리뷰",
                "이번 주 문제 풀이 공유 (Google Meet)",
                2,
                22,
                1,
                "온라인",
            ),
            (
                LEE,
                "모의 코딩테스트",
                "실전처럼 3시간, 4문제",
                9,
                14,
                3,
                "강남역 스터디카페",
            ),
        ],
        chat: &[
            (KIM, "이번 주 문제 공지 올렸어요! 그래프 탐색 위주입니다."),
            (LEE, "넵 확인했습니다 🙌"),
            (PARK, "2번 문제 시간초과 나는데 혹시 힌트 있을까요?"),
            (
                ALEX,
                "@박지훈 visited 배열을 큐에 넣을 때 체크해보세요. 꺼낼 때 체크하면 중복이 많이 생겨요.",
            ),
            (PARK, "@Alex 오 그거였네요 감사합니다!"),
            (LEE, "@김민수 리뷰 일요일 22시 그대로 진행하나요?"),
            (KIM, "@이서연 네 그대로 진행해요. 캘린더에도 등록해뒀어요."),
            (
                ALEX,
                "I'll share my Python solutions in the files tab tonight.",
            ),
            (PARK, "다음 주는 DP 하면 어떨까요?"),
        ],
    },
    StudySpec {
        owner: KIM,
        name: "토익 900 달성반",
        description: "8주 안에 토익 900점! 매일 LC/RC 인증, 주말 모의고사. 성실하게 참여하실 분만 신청해 주세요.",
        category: "어학",
        tags: &["toeic", "english", "모의고사"],
        max_members: 8,
        is_public: true,
        join_policy: JoinPolicy::Approval,
        members: &[CHOI, JUNG],
        admins: &[],
        pending: &[(EMMA, "I'm preparing for TOEIC too. Can I join? 🙂")],
        notices: &[
            (
                KIM,
                "인증 규칙",
                "매일 LC 1세트 + RC Part 5 30문제 풀고 채팅방에 점수 인증해 주세요.",
                true,
            ),
            (
                KIM,
                "이번 주말 모의고사 장소",
                "토요일 오전 9시, 종로 YBM 근처 스터디룸 3번 방입니다.",
                false,
            ),
            (
                KIM,
                "단어장 공유",
                "Part 5 빈출 어휘 300개 정리본은 다음 주에 올릴게요.",
                false,
            ),
        ],
        events: &[
            (
                KIM,
                "주말 모의고사",
                "실전 모의고사 1회분 (LC+RC 2시간)",
                5,
                9,
                2,
                "종로 스터디룸",
            ),
            (CHOI, "오답 노트 공유", "", 6, 20, 1, "온라인"),
            (KIM, "토익 정기시험", "", 13, 0, 0, ""),
        ],
        chat: &[
            (KIM, "오늘 인증 시작합니다! LC 82/100"),
            (CHOI, "RC Part 5 27/30 인증해요"),
            (JUNG, "저는 LC 75... Part 3가 너무 어렵네요 😭"),
            (
                KIM,
                "@정다은 Part 3는 문제 먼저 읽는 연습이 제일 효과 있었어요",
            ),
            (JUNG, "@김민수 감사합니다! 내일부터 해볼게요"),
            (CHOI, "모의고사 장소 공지 확인했습니다~"),
        ],
    },
    StudySpec {
        owner: LEE,
        name: "Rust 입문 스터디",
        description: "The Rust Programming Language(한국어판)를 함께 읽고 매주 작은 CLI 도구를 만듭니다. \
                      소유권이 처음이어도 괜찮아요.",
        category: "프로그래밍",
        tags: &["rust", "systems", "book"],
        max_members: 12,
        is_public: true,
        join_policy: JoinPolicy::Approval,
        members: &[KIM, ALEX, DAVID],
        admins: &[KIM],
        pending: &[],
        notices: &[
            (
                LEE,
                "진도표",
                "1주차: 1–4장 (소유권)\n2주차: 5–8장 (구조체, 열거형, 컬렉션)\n3주차: 9–11장 (에러 처리, 제네릭, 테스트)",
                true,
            ),
            (
                KIM,
                "과제 제출 방법",
                "GitHub 레포를 만들어 링크를 채팅방에 올려주세요. 리뷰는 서로 한 명씩 맡아요.",
                false,
            ),
        ],
        events: &[
            (
                LEE,
                "4장 소유권 발표",
                "발표: 김민수",
                3,
                20,
                2,
                "판교 카페",
            ),
            (
                DAVID,
                "Pair programming: minigrep",
                "Build chapter 12's minigrep together",
                10,
                19,
                2,
                "Online (Discord)",
            ),
        ],
        chat: &[
            (
                LEE,
                "다들 1장 읽으셨나요? cargo 설치에서 막히신 분 있으면 말씀 주세요.",
            ),
            (DAVID, "Installed with rustup, all good here."),
            (ALEX, "borrow checker is yelling at me already 😅"),
            (KIM, "@Alex 에러 메시지 그대로 붙여주시면 같이 볼게요!"),
            (
                ALEX,
                "error[E0502]: cannot borrow `v` as mutable because it is also borrowed as immutable",
            ),
            (
                LEE,
                "@Alex 벡터 참조를 잡은 채로 push 하면 그 에러가 나요. 참조를 먼저 다 쓰고 push 해보세요.",
            ),
            (ALEX, "That fixed it, thanks @이서연!"),
            (DAVID, "@김민수 are you presenting chapter 4 next week?"),
            (
                KIM,
                "@David yes! I'll prepare slides on ownership and borrowing.",
            ),
            (LEE, "최고예요 👍"),
        ],
    },
    StudySpec {
        owner: PARK,
        name: "정보처리기사 실기 벼락치기",
        description: "실기 시험까지 한 달! 기출 위주로 매일 1회분씩 풀고 오답을 정리합니다.",
        category: "자격증",
        tags: &["정보처리기사", "자격증", "기출"],
        max_members: 20,
        is_public: true,
        join_policy: JoinPolicy::Auto,
        members: &[KIM, CHOI, SOPHIA],
        admins: &[],
        pending: &[],
        notices: &[(
            PARK,
            "기출 풀이 일정",
            "2020년부터 최신 회차까지 하루 1회분. 오답은 각자 노트에 정리 후 인증!",
            true,
        )],
        events: &[
            (
                PARK,
                "SQL 파트 집중 특강",
                "조인, 서브쿼리, 그룹 함수 총정리",
                4,
                21,
                2,
                "온라인",
            ),
            (CHOI, "실기 시험일", "", 12, 0, 0, ""),
        ],
        chat: &[
            (PARK, "오늘은 2022년 1회 풀어요!"),
            (CHOI, "SQL 문제 진짜 헷갈리네요..."),
            (
                KIM,
                "@최유나 GROUP BY + HAVING 조합 정리해둔 거 있는데 공유할까요?",
            ),
            (CHOI, "@김민수 네 부탁드려요 🙏"),
            (
                SOPHIA,
                "🔥 기사 시험 합격 보장 인강 계정 싸게 팝니다. 관심 있으면 DM 주세요 🔥",
            ),
            (PARK, "@Sophia 스터디방에서 판매 글은 안 됩니다."),
            (KIM, "오늘 회차 68점! 서술형 부분 더 봐야겠어요."),
        ],
    },
    StudySpec {
        owner: ALEX,
        name: "Frontend Interview Prep",
        description: "Weekly mock interviews for frontend roles: React, browser internals, system design. \
                      한국어/영어 모두 환영합니다.",
        category: "취업",
        tags: &["frontend", "react", "interview", "javascript"],
        max_members: 6,
        is_public: true,
        join_policy: JoinPolicy::Approval,
        members: &[KIM, EMMA, JUNG],
        admins: &[],
        pending: &[],
        notices: &[
            (
                ALEX,
                "How we run mock interviews",
                "Pairs rotate every week. 45 minutes interview, 15 minutes feedback. Bring your resume!",
                true,
            ),
            (
                ALEX,
                "This week's topic",
                "Event loop, rendering pipeline, and React reconciliation.",
                false,
            ),
        ],
        events: &[
            (
                ALEX,
                "Mock interview round 1",
                "Pairs: 김민수–Emma, 정다은–Alex",
                1,
                20,
                2,
                "Zoom",
            ),
            (
                EMMA,
                "Resume review session",
                "Bring a PDF of your resume",
                8,
                19,
                1,
                "Zoom",
            ),
        ],
        chat: &[
            (
                ALEX,
                "Welcome everyone! First mock interview is tomorrow evening.",
            ),
            (EMMA, "Looking forward to it 😊"),
            (JUNG, "혹시 질문 리스트 미리 받을 수 있을까요?"),
            (ALEX, "@정다은 no spoilers, but review the event loop 😉"),
            (KIM, "@Emma shall we do 8pm KST for our pair?"),
            (EMMA, "@김민수 8pm works for me!"),
            (JUNG, "이번 주 자료 정리 감사합니다 @Alex"),
        ],
    },
    StudySpec {
        owner: CHOI,
        name: "비밀 모각코",
        description: "지인끼리 하는 모여서 각자 코딩. 초대 코드로만 들어올 수 있어요.",
        category: "프로그래밍",
        tags: &["모각코", "사이드프로젝트"],
        max_members: 5,
        is_public: false,
        join_policy: JoinPolicy::Auto,
        members: &[KIM, PARK],
        admins: &[],
        pending: &[],
        notices: &[(
            CHOI,
            "장소 고정",
            "매주 토요일 오후 2시, 성수동 카페 2층 큰 테이블이에요.",
            true,
        )],
        events: &[(
            CHOI,
            "토요 모각코",
            "각자 할 일 공유하고 시작해요",
            6,
            14,
            4,
            "성수동 카페",
        )],
        chat: &[
            (CHOI, "이번 주도 토요일에 봐요!"),
            (PARK, "저 30분 늦을 것 같아요 ㅠ"),
            (KIM, "@박지훈 자리 맡아둘게요"),
            (CHOI, "다들 이번 주 목표 하나씩 적어주세요"),
            (KIM, "저는 사이드 프로젝트 로그인 기능 끝내기!"),
        ],
    },
    StudySpec {
        owner: EMMA,
        name: "English Conversation Club",
        description: "Casual English conversation twice a week. All levels welcome — just bring a topic!",
        category: "어학",
        tags: &["english", "speaking", "conversation"],
        max_members: 15,
        is_public: true,
        join_policy: JoinPolicy::Auto,
        members: &[SOPHIA, DAVID, LEE],
        admins: &[SOPHIA],
        pending: &[],
        notices: &[(
            EMMA,
            "Club rules",
            "English only during sessions. Be kind, and correct each other gently.",
            true,
        )],
        events: &[
            (
                EMMA,
                "Tuesday talk: travel stories",
                "",
                2,
                20,
                1,
                "Online (Zoom)",
            ),
            (SOPHIA, "Friday talk: movies", "", 5, 20, 1, "Online (Zoom)"),
        ],
        chat: &[
            (EMMA, "Hi all! Topic for Tuesday: your best travel story."),
            (DAVID, "Easy, mine is getting lost in Busan 😂"),
            (LEE, "I'll talk about Jeju island!"),
            (SOPHIA, "@David can't wait to hear it"),
            (EMMA, "@이서연 great choice!"),
        ],
    },
    StudySpec {
        owner: DAVID,
        name: "데이터 분석 취업반 (SQLD)",
        description: "SQLD 자격증 + 데이터 분석 포트폴리오를 함께 준비합니다. Kaggle 데이터로 매주 미니 프로젝트.",
        category: "취업",
        tags: &["sqld", "data", "kaggle", "portfolio"],
        max_members: 10,
        is_public: true,
        join_policy: JoinPolicy::Approval,
        members: &[SOPHIA, JUNG],
        admins: &[],
        pending: &[],
        notices: &[
            (
                DAVID,
                "Week 1 project",
                "Titanic 데이터로 EDA 후 노트북 공유하기. 마감은 일요일!",
                true,
            ),
            (
                DAVID,
                "SQLD 시험 접수 안내",
                "접수 기간 놓치지 마세요. 데이터자격검정 사이트에서 접수합니다.",
                false,
            ),
        ],
        events: &[(
            DAVID,
            "포트폴리오 리뷰",
            "각자 노트북 10분 발표",
            7,
            20,
            2,
            "온라인",
        )],
        chat: &[
            (DAVID, "Week 1 project posted in notices."),
            (SOPHIA, "판다스 groupby 너무 편하네요"),
            (JUNG, "@David EDA 시각화는 seaborn 써도 되나요?"),
            (DAVID, "@정다은 sure, anything goes!"),
            (SOPHIA, "노트북 공유했어요~"),
        ],
    },
];

/// A task for 김민수: title, description, due in days, priority, study index, done.
type TaskSpec = (
    &'static str,
    &'static str,
    Option<i64>,
    Priority,
    Option<usize>,
    bool,
);

const TASKS: [TaskSpec; 8] = [
    (
        "그래프 탐색 문제 5개 풀기",
        "BFS/DFS 기본 3 + 응용 2",
        Some(2),
        Priority::High,
        Some(0),
        false,
    ),
    (
        "토익 모의고사 오답 정리",
        "",
        Some(6),
        Priority::Medium,
        Some(1),
        false,
    ),
    (
        "4장 소유권 발표 자료 만들기",
        "슬라이드 15장 이내, 예제 코드 포함",
        Some(3),
        Priority::High,
        Some(2),
        false,
    ),
    (
        "SQL 그룹 함수 정리본 공유",
        "",
        Some(1),
        Priority::Medium,
        Some(3),
        true,
    ),
    (
        "Mock interview: event loop 복습",
        "",
        Some(1),
        Priority::Low,
        Some(4),
        false,
    ),
    (
        "사이드 프로젝트 로그인 기능",
        "JWT 말고 세션 방식으로",
        Some(6),
        Priority::Medium,
        Some(5),
        false,
    ),
    (
        "이력서 업데이트",
        "프로젝트 경험 위주로 다시 쓰기",
        Some(8),
        Priority::High,
        None,
        false,
    ),
    ("운동 30분", "", None, Priority::Low, None, true),
];

/// A demo file: study index, uploader, name, media type, contents.
type FileSpec = (usize, usize, &'static str, &'static str, &'static str);

const FILES: [FileSpec; 3] = [
    (
        0,
        ALEX,
        "graph-solutions.py",
        "text/x-python",
        "from collections import deque\n\n\ndef bfs(graph, start):\n    seen = {start}\n    queue = deque([start])\n    while queue:\n        node = queue.popleft()\n        for nxt in graph[node]:\n            if nxt not in seen:\n                seen.add(nxt)\n                queue.append(nxt)\n    return seen\n",
    ),
    (
        2,
        LEE,
        "rust-ownership-cheatsheet.md",
        "text/markdown",
        "# Ownership cheatsheet\n\n- Each value has one owner.\n- Many `&T` or one `&mut T`, never both.\n- A value is dropped when its owner goes out of scope.\n",
    ),
    (
        3,
        KIM,
        "sql-group-functions.txt",
        "text/plain",
        "GROUP BY 정리\n- WHERE: 그룹 전에 행을 거른다\n- HAVING: 그룹 후에 그룹을 거른다\n- SELECT에는 GROUP BY 열이나 집계 함수만\n",
    ),
];

/// The pending report: study index, reporter, index of the reported chat message, reason.
const REPORT: (usize, usize, usize, &str) = (
    3,
    CHOI,
    4,
    "스터디 채팅방에서 강의 계정을 판매하는 광고입니다.",
);

/// Seeds the demo data unless it is already there (see the module docs).
///
/// With `files_dir`, demo files are written as small real blobs at
/// `files_dir/<storage key>` (the layout the server's blob storage uses) and
/// registered, so they can be downloaded. Without it, files are skipped entirely:
/// the core never writes blobs itself, and metadata without a blob would be a file
/// nobody can download.
pub fn seed(core: &Core, files_dir: Option<&Path>) -> Result<SeedReport> {
    if core
        .read_blocking(|tx| accounts::credentials_by_email(tx, DEMO_EMAIL))?
        .is_some()
    {
        return Ok(SeedReport {
            already_seeded: true,
            ..SeedReport::default()
        });
    }
    let mut seeder = Seeder {
        core,
        report: SeedReport::default(),
    };
    let users = seeder.users()?;
    let mut studies = Vec::with_capacity(STUDIES.len());
    let mut messages = Vec::with_capacity(STUDIES.len());
    for spec in &STUDIES {
        let study = seeder.study(spec, &users)?;
        messages.push(seeder.chat(study, spec, &users)?);
        studies.push(study);
    }
    seeder.tasks(users[KIM], &studies)?;
    if let Some(dir) = files_dir {
        seeder.files(dir, &users, &studies)?;
    }
    let (study, reporter, message, reason) = REPORT;
    let target = messages
        .get(study)
        .and_then(|m| m.get(message))
        .ok_or_else(|| Error::Internal("demo report names a missing message".into()))?;
    seeder.report(users[reporter], *target, reason)?;
    Ok(seeder.report)
}

struct Seeder<'a> {
    core: &'a Core,
    report: SeedReport,
}

impl Seeder<'_> {
    /// Runs one operation and counts the notifications it caused.
    fn write<T>(&mut self, op: impl FnOnce(&mut dyn Tx) -> Result<Outcome<T>>) -> Result<T> {
        let outcome = self.core.write_blocking(op)?;
        self.count(&outcome.events);
        Ok(outcome.value)
    }

    fn count(&mut self, events: &[DomainEvent]) {
        self.report.notifications += events
            .iter()
            .filter(|e| matches!(e, DomainEvent::NotificationCreated { .. }))
            .count();
    }

    fn users(&mut self) -> Result<Vec<UserId>> {
        let mut ids = Vec::with_capacity(USERS.len());
        for (email, name, role) in USERS {
            let signup = Signup {
                email: email.into(),
                password: DEMO_PASSWORD.into(),
                name: name.into(),
            };
            let outcome = self.core.create_user_blocking(&signup, role)?;
            self.count(&outcome.events);
            ids.push(outcome.value.id);
            self.report.users += 1;
        }
        Ok(ids)
    }

    fn study(&mut self, spec: &StudySpec, users: &[UserId]) -> Result<StudyId> {
        let owner = Some(user(users, spec.owner)?);
        let input = NewStudy {
            name: spec.name.into(),
            description: spec.description.into(),
            category: spec.category.into(),
            tags: spec.tags.iter().map(|t| (*t).to_owned()).collect(),
            max_members: spec.max_members,
            is_public: spec.is_public,
            join_policy: spec.join_policy,
            is_recruiting: true,
        };
        let id = self
            .write(|tx| service::studies::create(tx, owner, input))?
            .id;
        self.report.studies += 1;

        let invite_code = if spec.is_public {
            None
        } else {
            Some(
                self.core
                    .read_blocking(|tx| service::studies::invite_code(tx, owner, id))?
                    .invite_code,
            )
        };
        for &m in spec.members {
            let member = user(users, m)?;
            let join = JoinRequest {
                message: Some("잘 부탁드립니다!".into()),
                invite_code: invite_code.clone(),
            };
            let joined = self.write(|tx| service::membership::join(tx, Some(member), id, join))?;
            if joined.status == crate::model::MemberStatus::Pending {
                self.write(|tx| service::membership::approve(tx, owner, id, member))?;
            }
        }
        for &a in spec.admins {
            let admin = user(users, a)?;
            let change = RoleChange {
                role: StudyRole::Admin,
            };
            self.write(|tx| service::membership::change_role(tx, owner, id, admin, change))?;
        }
        for &(p, message) in spec.pending {
            let requester = Some(user(users, p)?);
            let join = JoinRequest {
                message: Some(message.into()),
                invite_code: None,
            };
            self.write(|tx| service::membership::join(tx, requester, id, join))?;
        }

        for &(author, title, content, is_pinned) in spec.notices {
            let author = Some(user(users, author)?);
            let notice = NewNotice {
                title: title.into(),
                content: content.into(),
                is_pinned,
            };
            self.write(|tx| service::notices::create(tx, author, id, notice))?;
            self.report.notices += 1;
        }

        let today = Utc::now()
            .duration_trunc(Duration::days(1))
            .map_err(|e| Error::failed("demo: dating the events", e))?;
        for &(creator, title, description, day, kst_hour, hours, location) in spec.events {
            let creator = Some(user(users, creator)?);
            let event = new_event(today, title, description, day, kst_hour, hours, location);
            self.write(|tx| service::calendar::create(tx, creator, id, event))?;
            self.report.events += 1;
        }
        Ok(id)
    }

    fn chat(
        &mut self,
        study: StudyId,
        spec: &StudySpec,
        users: &[UserId],
    ) -> Result<Vec<MessageId>> {
        let mut ids = Vec::with_capacity(spec.chat.len());
        for &(author, content) in spec.chat {
            let author = Some(user(users, author)?);
            let send = SendMessage {
                content: content.into(),
                ..SendMessage::default()
            };
            ids.push(
                self.write(|tx| service::chat::send(tx, author, study, send))?
                    .id,
            );
            self.report.messages += 1;
        }
        Ok(ids)
    }

    fn tasks(&mut self, kim: UserId, studies: &[StudyId]) -> Result<()> {
        for (title, description, due_in, priority, study, done) in TASKS {
            let study_id = study
                .map(|s| studies.get(s).copied().ok_or(Error::NotFound("study")))
                .transpose()?;
            let task = NewTask {
                title: title.into(),
                description: Some(description.into()).filter(|d: &String| !d.is_empty()),
                due_at: due_in.map(|d| Utc::now() + Duration::days(d)),
                priority,
                study_id,
                client_id: None,
            };
            let created = self.write(|tx| service::tasks::create(tx, Some(kim), task))?;
            if done {
                self.write(|tx| service::tasks::toggle(tx, Some(kim), created.id))?;
            }
            self.report.tasks += 1;
        }
        Ok(())
    }

    fn files(&mut self, dir: &Path, users: &[UserId], studies: &[StudyId]) -> Result<()> {
        std::fs::create_dir_all(dir)
            .map_err(|e| Error::failed(format!("demo files: creating {}", dir.display()), e))?;
        for (study, uploader, name, content_type, contents) in FILES {
            let study = studies
                .get(study)
                .copied()
                .ok_or(Error::NotFound("study"))?;
            let uploader = Some(user(users, uploader)?);
            let storage_key = service::files::new_storage_key();
            let path = dir.join(&storage_key);
            std::fs::write(&path, contents)
                .map_err(|e| Error::failed(format!("demo files: writing {}", path.display()), e))?;
            let input = NewFile {
                name: name.into(),
                content_type: content_type.into(),
                size: contents.len() as u64,
                storage_key,
            };
            let file = self.write(|tx| service::files::register(tx, uploader, study, input))?;
            self.report.files += 1;
            let send = SendMessage {
                content: format!("자료 올렸어요: {name}"),
                file_id: Some(file.id),
                client_id: None,
            };
            self.write(|tx| service::chat::send(tx, uploader, study, send))?;
            self.report.messages += 1;
        }
        Ok(())
    }

    fn report(&mut self, reporter: UserId, message: MessageId, reason: &str) -> Result<()> {
        let input = NewReport {
            target_type: ReportTarget::Message,
            target_id: message.to_string(),
            reason: reason.into(),
        };
        self.write(|tx| service::reports::create(tx, Some(reporter), input))?;
        Ok(())
    }
}

fn user(users: &[UserId], index: usize) -> Result<UserId> {
    users.get(index).copied().ok_or(Error::NotFound("user"))
}

/// An event `day` days after `today` (midnight UTC), starting at `kst_hour` Korean
/// time and lasting `hours` (0 = all day).
fn new_event(
    today: DateTime<Utc>,
    title: &str,
    description: &str,
    day: i64,
    kst_hour: i64,
    hours: i64,
    location: &str,
) -> NewEvent {
    let date = today + Duration::days(day);
    let (start_at, end_at, all_day) = if hours == 0 {
        (date, date + Duration::days(1), true)
    } else {
        let start = date + Duration::hours(kst_hour - 9);
        (start, start + Duration::hours(hours), false)
    };
    NewEvent {
        title: title.into(),
        description: Some(description.to_owned()).filter(|d| !d.is_empty()),
        start_at,
        end_at,
        all_day,
        location: Some(location.to_owned()).filter(|l| !l.is_empty()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::{MemberStatus, NotificationKind, PageRequest};
    use crate::service::accounts::Login;
    use crate::service::notifications::NotificationQuery;
    use crate::service::studies::MyStudiesQuery;

    fn open() -> (tempfile::TempDir, Core) {
        let dir = tempfile::tempdir().expect("temp dir");
        let core = Core::open_sqlite(dir.path().join("coup.db")).expect("open store");
        (dir, core)
    }

    fn login(core: &Core, email: &str) -> crate::model::LoginResult {
        core.login_blocking(&Login {
            email: email.into(),
            password: DEMO_PASSWORD.into(),
        })
        .expect("demo account logs in")
    }

    fn stats(core: &Core) -> crate::model::AdminStats {
        let admin = login(core, ADMIN_EMAIL).user.id;
        core.read_blocking(|tx| service::admin::stats(tx, Some(admin)))
            .expect("stats")
    }

    #[test]
    fn seeds_users_studies_and_kims_memberships() {
        let (dir, core) = open();
        let report = seed(&core, Some(&dir.path().join("files"))).expect("seed");
        assert!(!report.already_seeded);
        assert_eq!((report.users, report.studies), (10, 8));
        assert!(report.messages > 40 && report.notifications > 0, "{report}");
        assert_eq!(report.files, 3);

        let stats = stats(&core);
        assert_eq!((stats.user_count, stats.study_count), (10, 8));
        assert_eq!(stats.pending_report_count, 1);
        assert_eq!(stats.file_count, 3);

        let kim = login(&core, DEMO_EMAIL);
        assert_eq!(kim.user.name, "김민수");
        let me = Some(kim.user.id);
        let query = MyStudiesQuery {
            page: Some(1),
            limit: Some(100),
            ..MyStudiesQuery::default()
        };
        let mine = core
            .read_blocking(|tx| service::studies::my_studies(tx, me, query))
            .expect("my studies");
        assert_eq!(mine.total, 6);
        assert!(
            mine.items
                .iter()
                .all(|s| s.my_status == Some(MemberStatus::Active))
        );
        let roles = |role| {
            mine.items
                .iter()
                .filter(|s| s.my_role == Some(role))
                .count()
        };
        assert_eq!(
            (
                roles(StudyRole::Owner),
                roles(StudyRole::Admin),
                roles(StudyRole::Member)
            ),
            (2, 1, 3)
        );

        let waiting: u64 = mine
            .items
            .iter()
            .filter(|s| s.my_role == Some(StudyRole::Owner))
            .map(|s| {
                core.read_blocking(|tx| {
                    service::membership::list_join_requests(tx, me, s.id, PageRequest::default())
                })
                .expect("join requests")
                .total
            })
            .sum();
        assert_eq!(waiting, 1);

        let kinds: Vec<_> = core
            .read_blocking(|tx| {
                service::notifications::list(
                    tx,
                    me,
                    NotificationQuery {
                        unread_only: false,
                        page: Some(1),
                        limit: Some(100),
                    },
                )
            })
            .expect("notifications")
            .items
            .into_iter()
            .map(|n| n.kind)
            .collect();
        for kind in [
            NotificationKind::Mention,
            NotificationKind::JoinRequest,
            NotificationKind::RoleChanged,
        ] {
            assert!(
                kinds.contains(&kind),
                "kim has no {kind} notification: {kinds:?}"
            );
        }

        let admin = login(&core, ADMIN_EMAIL);
        assert_eq!(admin.user.role, PlatformRole::SystemAdmin);

        let keys: Vec<_> = std::fs::read_dir(dir.path().join("files"))
            .expect("files dir")
            .collect();
        assert_eq!(keys.len(), 3);
    }

    #[test]
    fn seeding_twice_changes_nothing() {
        let (_dir, core) = open();
        let first = seed(&core, None).expect("seed");
        assert_eq!(first.files, 0);
        let before = stats(&core);
        let second = seed(&core, None).expect("seed again");
        assert!(second.already_seeded);
        assert_eq!(
            second,
            SeedReport {
                already_seeded: true,
                ..SeedReport::default()
            }
        );
        let after = stats(&core);
        assert_eq!(
            (
                after.user_count,
                after.study_count,
                after.message_count,
                after.file_count,
                after.pending_report_count
            ),
            (
                before.user_count,
                before.study_count,
                before.message_count,
                before.file_count,
                before.pending_report_count
            )
        );
        assert_eq!(
            (after.user_count, after.study_count, after.file_count),
            (10, 8, 0)
        );
    }
}
