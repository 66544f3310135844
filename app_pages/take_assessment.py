"""Take the assessment from an invite link: confirm the agency, answer domain by domain, review, submit once.

The token is read from ``?invite=`` once, kept in this browser session only, and removed from the address
bar. Every answer is saved to the database the moment it changes, so the respondent can stop and come
back later with the same link. Every refusal of a link shows the same message, whatever the reason; too
many refused links from one browser or address make it wait (the library counts them).
"""

import secrets

import streamlit as st

from app_pages import _frame as frame
from app_pages import _resources as resources
from app_pages import _respondent as respondent
from app_pages import _widgets as widgets
from assessment import service, timing
from assessment.permissions import Principal
from assessment.questionnaire.schema import ANSWER_LABELS
from assessment.service import INVALID_INVITATION_MESSAGE, INVITE_PARAMETER, RESUME_PARAMETER
from assessment.vocabulary import agency_label

if INVITE_PARAMETER in st.query_params:
    st.session_state["take_token"] = st.query_params[INVITE_PARAMETER]
    for key in ("take_respondent", "take_step", "take_done", "take_resume_key"):
        st.session_state.pop(key, None)
    del st.query_params[INVITE_PARAMETER]  # the token leaves the address bar
    st.query_params.pop(RESUME_PARAMETER, None)
    st.query_params[frame.TAKE_MARK] = "1"  # no secret: after a refresh the visitor stays on this page

st.title("Take the assessment")


def privacy_notice(min_group_size: int) -> str:
    return (f"Who reads your answers: your comments are read by the partnership's leads and administrators, with "
            f"your agency group; board members see them without the agency group, and only when at least "
            f"{min_group_size} people from your agency group have answered. Scores are only shown for groups of "
            f"{min_group_size} or more. Please do not name or describe anyone in a way that could identify them, "
            "especially people in mental health crisis.")


def refuse() -> None:
    """The one message for a link that does not work, a box to paste it again, and whom to ask."""
    st.error(INVALID_INVITATION_MESSAGE, icon=":material/link_off:")
    respondent.paste_box("take_link_again")
    st.caption(respondent.WHOM_TO_ASK)
    st.stop()


def browser_id() -> str:
    return st.session_state.setdefault("take_browser", secrets.token_hex(16))


def guarded(check):
    """Run a throttled look-up of a link; too many wrong ones from this browser or address make it wait."""
    try:
        with resources.writing() as session:
            return check(session)
    except service.TooManyGuesses as exc:
        st.error(widgets.plain(exc), icon=":material/hourglass_top:")
        st.stop()


def remember(context, name: str | None = None, key: str | None = None) -> None:
    """Keep the respondent in this browser session and put a resume key in the address bar: ``key`` when the
    visitor came with a working one (a refresh or a new tab keeps it, so the other tabs' addresses keep working),
    else a new one (after the invite link)."""
    me = Principal.for_respondent(context.round, context.respondent)
    with resources.writing() as session:
        key = key or service.issue_resume_key(session, me)
        name = name or service.respondent_partnership_name(session, me)
    st.session_state.update(take_respondent=context, take_partnership_name=name, take_resume_key=key,
                            take_resumed=context.resumed, take_welcome=context.resumed)
    st.session_state.pop("take_step", None)  # a returning respondent starts where answers are missing
    st.query_params.pop(frame.TAKE_MARK, None)
    st.query_params[RESUME_PARAMETER] = key  # a refresh or a new tab comes back to these answers


resume_key = st.query_params.get(RESUME_PARAMETER)
if resume_key and INVITE_PARAMETER not in st.query_params and st.session_state.get("take_resume_key") != resume_key:
    # a refresh, a new tab or a bookmark: the key opens this respondent's own answers, and nothing else
    for key in ("take_token", "take_respondent", "take_step", "take_done"):
        st.session_state.pop(key, None)
    if st.session_state.get("take_refused") != resume_key:
        resumed = guarded(lambda session: service.check_resume_key(
            session, resources.principal(), resume_key, browser=browser_id(), address=st.context.ip_address,
            limits=service.GuessLimits.from_settings(resources.settings())))
        if resumed is not None:
            remember(resumed, key=resume_key)
            st.rerun()
    st.session_state["take_refused"] = resume_key  # counted once, not again on every rerun
    del st.query_params[RESUME_PARAMETER]
    st.query_params[frame.TAKE_MARK] = "1"
    refuse()

token = st.session_state.get("take_token")
if token is None and "take_respondent" not in st.session_state and not st.session_state.get("take_done"):
    st.write("Open the invitation link you were sent by your partnership board, or paste it here.")
    respondent.paste_box("take_link")
    st.caption(respondent.WHOM_TO_ASK)
    st.stop()

version = resources.data_version()
if st.session_state.get("take_done"):
    st.success("Thank you. Your answers are submitted and will count when the round closes. You can close "
               "this page.", icon=":material/task_alt:")
    st.stop()

context = st.session_state.get("take_respondent")
if context is None:
    if st.session_state.get("take_refused") == token:  # counted once, not again on every rerun
        refuse()
    def check_link(session):  # failed guesses are counted per browser session and client address, in the database
        found = service.check_invitation(session, resources.principal(), token, browser=browser_id(),
                                         address=st.context.ip_address,
                                         limits=service.GuessLimits.from_settings(resources.settings()))
        return found, "" if found is None else service.invitation_partnership_name(session, resources.principal(),
                                                                                    token)

    invitation, name = guarded(check_link)
    if invitation is None:
        st.session_state["take_refused"] = token
        refuse()
    if invitation.respondent is None:
        st.write(f"You are invited to assess **{widgets.plain(name)}** for the period "
                 f"**{widgets.plain(invitation.period)}**, answering "
                 f"as a member of the **{agency_label(invitation.agency)}** agency group.")
        st.write("If that is not your agency, please do not continue: ask the sender for your agency's link. "
                 "Your answers are pseudonymous: your name is not recorded.")
        st.info(privacy_notice(resources.settings().min_group_size), icon=":material/shield_person:")
        if not st.button("Yes, this is my agency: start", key="take_confirm", type="primary"):
            st.stop()
    try:
        with resources.writing() as session:
            context = service.start_respondent(session, resources.principal(), token)
    except service.InvalidInvitation:
        refuse()
    remember(context, name)
    st.session_state.pop("take_token", None)
    st.rerun()  # the section is drawn afresh: nothing of the confirmation is left to re-draw (and lose the focus)

me = Principal.for_respondent(context.round, context.respondent)


def link_gone() -> None:
    """This session's link stopped working (withdrawn, expired, re-issued, or the place released): the one
    refusal, and nothing of the respondent is kept in the session."""
    for key in ("take_respondent", "take_step", "take_resume_key"):
        st.session_state.pop(key, None)
    st.query_params.pop(RESUME_PARAMETER, None)
    st.query_params[frame.TAKE_MARK] = "1"
    refuse()


if st.session_state.pop("take_link_gone", False):  # a save just found the link withdrawn or expired
    link_gone()
try:  # the respondent is gone from this session's key: their link was re-issued, or their place released
    with resources.reading() as session:
        saved = service.respondent_answers(session, me).set_index("item")
except (service.StorageError, service.InvalidInvitation):
    link_gone()
with resources.reading() as session:
    questionnaire = service.respondent_questionnaire(session, me)
partnership_name = st.session_state.get("take_partnership_name", context.partnership)
st.caption(f"{widgets.plain(partnership_name)} · {widgets.plain(context.period)} · "
           f"answering as {agency_label(context.agency)}")
values, comments = saved["value"].to_dict(), saved["comment"].to_dict()


def save(item_id: str) -> None:
    """Save one answer the moment it changes (value and evidence together)."""
    value = st.session_state.get(f"take_value_{item_id}") or ""
    comment = st.session_state.get(f"take_evidence_{item_id}", comments.get(item_id, "")) or ""
    try:
        with timing.timed("save_answer"), resources.writing() as session:  # off unless ASSESSMENT_TIMING_LOG is set
            service.save_answer(session, me, item_id, value, comment)
    except service.InvalidInvitation:
        st.session_state["take_link_gone"] = True
    except (service.StorageError, ValueError) as exc:
        st.session_state["take_problem"] = getattr(exc, "summary", "") or str(exc)  # one line, not the report


def go(step: int) -> None:
    st.session_state["take_step"] = step
    st.session_state.pop("take_welcome", None)  # said once, on the first section shown


# only the items asked of the respondent's agency (answered_by); a domain with none of them is skipped
asked = {domain.id: domain.items_for(context.agency) for domain in questionnaire.domains}
domains = [domain for domain in questionnaire.domains if asked[domain.id]]
total = sum(len(items) for items in asked.values())
answered = sum(1 for items in asked.values() for item in items if values.get(item.id))
st.progress(answered / total, text=f"{answered} of {total} statements answered · saved as you go")
if problem := st.session_state.pop("take_problem", None):
    st.error(f"Your last answer could not be saved: {widgets.plain(problem)}")
if "take_step" not in st.session_state:  # a returning respondent starts at the first section with a gap
    resumed = st.session_state.pop("take_resumed", False)
    st.session_state["take_step"] = (respondent.first_unanswered([[i.id for i in asked[d.id]] for d in domains], values)
                                     if resumed else 0)
step = st.session_state["take_step"]
scale = questionnaire.scale
options = list(scale.accepted_answers())

if step < len(domains):
    domain = domains[step]
    st.header(f"{step + 1} of {len(domains)}: {widgets.plain(domain.title)}")
    respondent.open_at_heading(step, f"{step + 1} of {len(domains)}:")
    if st.session_state.get("take_welcome"):  # kept until the section changes: the page does not shift under the focus
        st.info("Welcome back: your saved answers are kept. You are at the first section with statements not yet "
                "answered.", icon=":material/bookmark:")
    if domain.description:
        st.caption(widgets.plain(domain.description))
    if scale.instruction:
        st.info(widgets.plain(scale.instruction), icon=":material/info:")
    for item in asked[domain.id]:
        with st.container(border=True):
            st.markdown(f"**{widgets.plain(item.text)}**")
            labels = {str(level): f"{level} · {widgets.plain(scale.label(level))}: {widgets.plain(text)}"
                      for level, text in item.descriptors.items()}
            labels |= ANSWER_LABELS
            current = values.get(item.id)
            st.radio(widgets.plain(item.text), options, index=options.index(current) if current in options else None,
                     format_func=labels.get, key=f"take_value_{item.id}", on_change=save, args=(item.id,),
                     label_visibility="collapsed")
            st.text_area("Evidence or comment (optional)", value=comments.get(item.id, ""), max_chars=2000,
                         key=f"take_evidence_{item.id}", on_change=save, args=(item.id,),
                         help=widgets.plain(item.guidance) if item.guidance else None)
    back, forward = st.columns(2)
    back.button("Previous", key="take_prev", on_click=go, args=(step - 1,), disabled=step == 0, width="stretch")
    label = "Next" if step + 1 < len(domains) else "Review and submit"
    forward.button(label, key="take_next", on_click=go, args=(step + 1,), type="primary", width="stretch")
    st.stop()

st.header("Review and submit")
missing = [(d.title, item.text) for d in domains for item in asked[d.id] if not values.get(item.id)]
for number, domain in enumerate(domains):
    done = sum(1 for item in asked[domain.id] if values.get(item.id))
    st.button(f"{widgets.plain(domain.title)}: {done} of {len(asked[domain.id])} answered", key=f"take_goto_{domain.id}",
              on_click=go, args=(number,), icon=":material/edit:")
if missing:
    st.warning(f"{len(missing)} statement(s) are not answered. You can still submit: unanswered statements "
               "count as not known. Choose 'Don't know' or 'Not applicable here' where that is your answer.")
st.write("You can submit once. After that your answers cannot be changed.")
if st.button("Submit my answers", key="take_submit", type="primary"):
    try:
        with resources.writing() as session:
            service.submit_respondent(session, me)
    except service.InvalidInvitation:
        refuse()
    except service.StorageError as exc:
        st.error(widgets.plain(exc))
        st.stop()
    st.session_state["take_done"] = True
    st.query_params.pop(RESUME_PARAMETER, None)  # the key no longer works: nothing is left to resume
    st.query_params[frame.TAKE_MARK] = "1"
    st.rerun()
