// Korean and English texts. The language follows `navigator.language` until the
// user picks one (kept in localStorage). Errors are worded from the server's
// stable `reason`, else its `code` — never from its message.

export type Lang = "ko" | "en";

const en = {
  appName: "CoUp",
  signIn: "Sign in",
  signUp: "Sign up",
  signOut: "Sign out",
  server: "Server",
  email: "Email",
  password: "Password",
  name: "Name",
  noAccount: "New here? Create an account",
  haveAccount: "Have an account? Sign in",
  tokenStoreKeyring: "Your session is kept in the system keyring.",
  tokenStoreFile: "Your session is kept in a private file on this computer.",
  tokenStoreBrowser: "Your session is kept in this browser until you sign out.",
  dashboard: "Dashboard",
  myStudies: "My studies",
  noStudies: "You are not in any study yet. Find one or create your own.",
  findStudies: "Find studies",
  notifications: "Notifications",
  unread: "{n} unread",
  members: "{n}/{max} members",
  chat: "Chat",
  membersTab: "Members",
  notices: "Notices",
  tasks: "Tasks",
  calendar: "Calendar",
  back: "Back",
  messagePlaceholder: "Write a message",
  send: "Send",
  typing1: "{a} is typing…",
  typing2: "{a} and {b} are typing…",
  typingMany: "Several people are typing…",
  pending: "Sending…",
  failed: "Not sent: {reason}",
  retry: "Retry",
  discard: "Discard",
  delete: "Delete",
  deleted: "This message was deleted.",
  loadingOlder: "Loading earlier messages…",
  beginning: "This is the beginning of the chat.",
  online: "online",
  offlineDot: "offline",
  noNotices: "No notices yet.",
  pinned: "Pinned",
  noTasks: "No tasks.",
  newTask: "New task",
  add: "Add",
  priority: "Priority",
  LOW: "Low",
  MEDIUM: "Medium",
  HIGH: "High",
  due: "due {date}",
  noEvents: "No events in the next months.",
  search: "Search",
  keyword: "Keyword",
  category: "Category",
  recruitingOnly: "Recruiting only",
  sort: "Sort",
  NEWEST: "Newest",
  NAME: "Name",
  MEMBERS: "Most members",
  join: "Join",
  askToJoin: "Ask to join",
  joinMessage: "Message to the owner (optional)",
  joined: "You joined {name}.",
  requested: "Your request to join {name} was sent.",
  open: "Open",
  createStudy: "Create a study",
  description: "Description",
  tags: "Tags (comma separated)",
  maxMembers: "Max members",
  public: "Public",
  approval: "Members need approval",
  create: "Create",
  previous: "Previous",
  next: "Next",
  pageOf: "Page {p} of {n}",
  noResults: "No studies match.",
  markAllRead: "Mark all read",
  markRead: "Mark read",
  noNotifications: "No notifications.",
  offlineBanner: "Offline — showing saved data. Changes are sent when the connection is back.",
  retryIn: "Next try in {s} s.",
  connecting: "Connecting…",
  reconnectNow: "Reconnect now",
  signedOutBanner: "You were signed out: {why}",
  language: "Language",
  theme: "Theme",
  themeLight: "Light",
  themeDark: "Dark",
  themeSystem: "System",
  loading: "Loading…",
  stats: "Studies: {studies} · Open tasks: {tasks} · Unread messages: {unread}",
  upcoming: "Upcoming",
  role_OWNER: "Owner",
  role_ADMIN: "Admin",
  role_MEMBER: "Member",
  // Errors by reason, then by code.
  "reason.EMAIL_TAKEN": "An account with this email already exists.",
  "reason.WRONG_CREDENTIALS": "The email or password is wrong.",
  "reason.WRONG_PASSWORD": "The current password is wrong.",
  "reason.WEAK_PASSWORD": "This password is too easy to guess. Use a longer one with several words.",
  "reason.ACCOUNT_SUSPENDED": "This account is suspended.",
  "reason.SESSION_EXPIRED": "Your session has ended. Please sign in again.",
  "reason.STUDY_FULL": "This study is full.",
  "reason.NOT_RECRUITING": "This study is not recruiting right now.",
  "reason.ALREADY_MEMBER": "You are already a member of this study.",
  "reason.REQUEST_PENDING": "Your request to join is waiting for approval.",
  "reason.ALREADY_APPROVED": "This request was already approved.",
  "reason.OWNER_MUST_TRANSFER": "Transfer ownership before leaving.",
  "reason.SAME_ROLE": "They already have this role.",
  "reason.NOT_YOURSELF": "You cannot do this to yourself.",
  "reason.CALL_FULL": "The call is full.",
  "reason.ALREADY_IN_CALL": "You are already in this call.",
  "reason.NOT_IN_CALL": "You are not in this call.",
  "reason.ALREADY_REPORTED": "You already reported this.",
  "reason.REPORT_PROCESSED": "This report was already processed.",
  "reason.NOT_SUSPENDED": "This user is not suspended.",
  "reason.ALREADY_SUBSCRIBED": "Already following this study.",
  "code.VALIDATION": "Some input is not valid.",
  "code.UNAUTHORIZED": "Please sign in again.",
  "code.FORBIDDEN": "You are not allowed to do this.",
  "code.NOT_FOUND": "It does not exist, or you cannot see it.",
  "code.CONFLICT": "This conflicts with the current state.",
  "code.PAYLOAD_TOO_LARGE": "This is too large.",
  "code.RATE_LIMITED": "Too many attempts. Wait a moment and try again.",
  "code.UNAVAILABLE": "The server cannot be reached. Check the address and your connection.",
  "code.INTERNAL": "Something went wrong on the server.",
  "code.BAD_RESPONSE": "The server answered something unexpected. Is this a CoUp server?",
  "code.NOT_SIGNED_IN": "Please sign in.",
  "code.other": "Something went wrong.",
  "field": "Field: {field}",
};

export type Key = keyof typeof en;

const ko: Record<Key, string> = {
  appName: "CoUp",
  signIn: "로그인",
  signUp: "회원가입",
  signOut: "로그아웃",
  server: "서버",
  email: "이메일",
  password: "비밀번호",
  name: "이름",
  noAccount: "처음이세요? 계정 만들기",
  haveAccount: "계정이 있으신가요? 로그인",
  tokenStoreKeyring: "로그인 정보는 시스템 키링에 보관됩니다.",
  tokenStoreFile: "로그인 정보는 이 컴퓨터의 비공개 파일에 보관됩니다.",
  tokenStoreBrowser: "로그인 정보는 로그아웃할 때까지 이 브라우저에 보관됩니다.",
  dashboard: "대시보드",
  myStudies: "내 스터디",
  noStudies: "아직 참여한 스터디가 없습니다. 스터디를 찾거나 새로 만들어 보세요.",
  findStudies: "스터디 찾기",
  notifications: "알림",
  unread: "안 읽음 {n}",
  members: "멤버 {n}/{max}",
  chat: "채팅",
  membersTab: "멤버",
  notices: "공지",
  tasks: "할 일",
  calendar: "일정",
  back: "뒤로",
  messagePlaceholder: "메시지를 입력하세요",
  send: "보내기",
  typing1: "{a} 님이 입력 중…",
  typing2: "{a} 님과 {b} 님이 입력 중…",
  typingMany: "여러 명이 입력 중…",
  pending: "보내는 중…",
  failed: "보내지 못함: {reason}",
  retry: "다시 시도",
  discard: "버리기",
  delete: "삭제",
  deleted: "삭제된 메시지입니다.",
  loadingOlder: "이전 메시지를 불러오는 중…",
  beginning: "채팅의 처음입니다.",
  online: "온라인",
  offlineDot: "오프라인",
  noNotices: "공지가 없습니다.",
  pinned: "고정됨",
  noTasks: "할 일이 없습니다.",
  newTask: "새 할 일",
  add: "추가",
  priority: "우선순위",
  LOW: "낮음",
  MEDIUM: "보통",
  HIGH: "높음",
  due: "마감 {date}",
  noEvents: "앞으로 예정된 일정이 없습니다.",
  search: "검색",
  keyword: "검색어",
  category: "카테고리",
  recruitingOnly: "모집 중만",
  sort: "정렬",
  NEWEST: "최신순",
  NAME: "이름순",
  MEMBERS: "멤버 많은 순",
  join: "참여하기",
  askToJoin: "참여 신청",
  joinMessage: "스터디장에게 남길 말 (선택)",
  joined: "{name}에 참여했습니다.",
  requested: "{name} 참여 신청을 보냈습니다.",
  open: "열기",
  createStudy: "스터디 만들기",
  description: "소개",
  tags: "태그 (쉼표로 구분)",
  maxMembers: "최대 인원",
  public: "공개",
  approval: "참여 승인 필요",
  create: "만들기",
  previous: "이전",
  next: "다음",
  pageOf: "{n}쪽 중 {p}쪽",
  noResults: "조건에 맞는 스터디가 없습니다.",
  markAllRead: "모두 읽음",
  markRead: "읽음",
  noNotifications: "알림이 없습니다.",
  offlineBanner: "오프라인 — 저장된 내용을 보여 줍니다. 연결되면 변경 사항을 보냅니다.",
  retryIn: "{s}초 후 다시 연결합니다.",
  connecting: "연결 중…",
  reconnectNow: "지금 연결",
  signedOutBanner: "로그아웃되었습니다: {why}",
  language: "언어",
  theme: "테마",
  themeLight: "밝게",
  themeDark: "어둡게",
  themeSystem: "시스템",
  loading: "불러오는 중…",
  stats: "스터디 {studies}개 · 남은 할 일 {tasks}개 · 안 읽은 메시지 {unread}개",
  upcoming: "다가오는 일정",
  role_OWNER: "스터디장",
  role_ADMIN: "운영진",
  role_MEMBER: "멤버",
  "reason.EMAIL_TAKEN": "이미 이 이메일로 가입한 계정이 있습니다.",
  "reason.WRONG_CREDENTIALS": "이메일 또는 비밀번호가 올바르지 않습니다.",
  "reason.WRONG_PASSWORD": "현재 비밀번호가 올바르지 않습니다.",
  "reason.WEAK_PASSWORD": "추측하기 쉬운 비밀번호입니다. 여러 단어로 된 더 긴 비밀번호를 쓰세요.",
  "reason.ACCOUNT_SUSPENDED": "정지된 계정입니다.",
  "reason.SESSION_EXPIRED": "세션이 만료되었습니다. 다시 로그인하세요.",
  "reason.STUDY_FULL": "정원이 찬 스터디입니다.",
  "reason.NOT_RECRUITING": "지금은 모집하지 않는 스터디입니다.",
  "reason.ALREADY_MEMBER": "이미 이 스터디의 멤버입니다.",
  "reason.REQUEST_PENDING": "참여 신청이 승인을 기다리고 있습니다.",
  "reason.ALREADY_APPROVED": "이미 승인된 신청입니다.",
  "reason.OWNER_MUST_TRANSFER": "나가기 전에 스터디장을 넘겨 주세요.",
  "reason.SAME_ROLE": "이미 그 역할입니다.",
  "reason.NOT_YOURSELF": "자기 자신에게는 할 수 없습니다.",
  "reason.CALL_FULL": "통화 인원이 가득 찼습니다.",
  "reason.ALREADY_IN_CALL": "이미 통화에 참여 중입니다.",
  "reason.NOT_IN_CALL": "통화에 참여하고 있지 않습니다.",
  "reason.ALREADY_REPORTED": "이미 신고했습니다.",
  "reason.REPORT_PROCESSED": "이미 처리된 신고입니다.",
  "reason.NOT_SUSPENDED": "정지되지 않은 사용자입니다.",
  "reason.ALREADY_SUBSCRIBED": "이미 구독 중인 스터디입니다.",
  "code.VALIDATION": "입력한 내용이 올바르지 않습니다.",
  "code.UNAUTHORIZED": "다시 로그인하세요.",
  "code.FORBIDDEN": "이 작업을 할 권한이 없습니다.",
  "code.NOT_FOUND": "없거나 볼 수 없는 항목입니다.",
  "code.CONFLICT": "현재 상태와 맞지 않습니다.",
  "code.PAYLOAD_TOO_LARGE": "너무 큽니다.",
  "code.RATE_LIMITED": "시도가 너무 많습니다. 잠시 후 다시 시도하세요.",
  "code.UNAVAILABLE": "서버에 연결할 수 없습니다. 주소와 네트워크를 확인하세요.",
  "code.INTERNAL": "서버에서 문제가 생겼습니다.",
  "code.BAD_RESPONSE": "서버가 예상하지 못한 응답을 했습니다. CoUp 서버가 맞나요?",
  "code.NOT_SIGNED_IN": "로그인하세요.",
  "code.other": "문제가 생겼습니다.",
  field: "항목: {field}",
};

const texts: Record<Lang, Record<Key, string>> = { en, ko };

let current: Lang = "en";
const listeners = new Set<() => void>();

/** The language for a `navigator.language` value and a saved choice. */
export function pickLang(navigatorLanguage: string | undefined, saved: string | null): Lang {
  if (saved === "ko" || saved === "en") return saved;
  return (navigatorLanguage ?? "").toLowerCase().startsWith("ko") ? "ko" : "en";
}

export function lang(): Lang {
  return current;
}

export function setLang(next: Lang): void {
  current = next;
  document.documentElement.lang = next;
  for (const l of listeners) l();
}

export function onLangChange(listener: () => void): () => void {
  listeners.add(listener);
  return () => listeners.delete(listener);
}

/** The text for `key` in the current language, `{name}`s filled from `vars`. */
export function t(key: Key, vars: Record<string, string | number> = {}): string {
  const text = texts[current][key];
  return text.replace(/\{(\w+)\}/g, (_, name: string) => String(vars[name] ?? `{${name}}`));
}

function has(key: string): key is Key {
  return key in en;
}

/** Words for an error with a stable `code` and optional `reason`. */
export function errorText(error: { code: string; reason?: string | null }): string {
  const byReason = `reason.${error.reason ?? ""}`;
  if (error.reason && has(byReason)) return t(byReason);
  const byCode = `code.${error.code}`;
  if (has(byCode)) return t(byCode);
  return t("code.other");
}

/** A short local date and time. */
export function formatTime(iso: string): string {
  const date = new Date(iso);
  return date.toLocaleString(current === "ko" ? "ko-KR" : "en-GB", {
    month: "short",
    day: "numeric",
    hour: "2-digit",
    minute: "2-digit",
  });
}
