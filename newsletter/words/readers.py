"""The words of the readers' pages, in French and English (``settings.language``).

Templates get the table of their language as ``t``; code refers to a message by its key
(``"link_invalid"``) and :func:`message` turns it into words. Both tables have the same keys
(a test holds them to it). ``{title}``, ``{email}`` and ``{zone}`` are filled in by the
templates. French typography: a no-break space (U+00A0) before ``:`` and a narrow one
(U+202F) before ``? ! ;``.
"""

from __future__ import annotations

from newsletter.words.edition import language_of

PAGES: dict[str, dict[str, str]] = {
    "fr": {
        # common
        "nothing_done": "Rien n’est fait tant que vous n’avez pas cliqué sur ce bouton.",
        "nothing_changed": (
            "Rien n’a été modifié. Si vous pensez qu’il s’agit d’une erreur, utilisez le lien "
            "du dernier e-mail reçu."
        ),
        # errors (keys used by the code)
        "error": "Une erreur est survenue.",
        "link_invalid": "Ce lien n’est pas valide.",
        "link_expired": "Ce lien a expiré.",
        "confirm_expired": "Ce lien de confirmation a expiré\u00a0: abonnez-vous à nouveau.",
        "subscriber_gone": "Cet abonnement n’existe plus.",
        "edition_missing": "Cette édition n’existe pas.",
        "edition_not_yet": "Cette édition n’existe pas (encore).",
        "not_found": "Cette page n’existe pas.",
        "method_not_allowed": "Méthode non permise.",
        "too_large": "Requête trop grande.",
        "send_the_form": "Envoyez le formulaire de la page.",
        "bad_form": "Ce formulaire n’a pas pu être lu.",
        "too_many": "Trop de demandes\u00a0: réessayez dans une heure.",
        "email_invalid": "Cette adresse e-mail n’est pas valide.",
        "signup_answer": (
            "Si cette adresse peut recevoir notre lettre, un e-mail de confirmation vient d’y "
            "être envoyé."
        ),
        # archive
        "archive_title": "Archives",
        "archive_heading": "Les éditions de {title}",
        "archive_empty": "Aucune édition pour l’instant.",
        # confirmation
        "confirm_title": "Confirmation",
        "confirm_done": "Abonnement confirmé",
        "confirm_done_text": "Vous recevrez {title} dès la prochaine édition.",
        "confirm_heading": "Confirmer votre abonnement",
        "confirm_button": "Confirmer mon abonnement",
        # sign-up
        "subscribe_title": "S’abonner",
        "subscribe_check": "Vérifiez votre boîte",
        "subscribe_check_note": (
            "Ouvrez le lien de cet e-mail pour confirmer\u00a0: sans confirmation, vous ne "
            "recevrez rien."
        ),
        "subscribe_heading": "Recevez {title}",
        "subscribe_tagline": "L’essentiel de l’actualité, lisible en cinq minutes, chaque matin.",
        "subscribe_email": "Adresse e-mail",
        "subscribe_name": "Prénom (facultatif)",
        "subscribe_topics": "Les rubriques à lire en premier (facultatif)\u00a0:",
        "subscribe_button": "M’abonner",
        # unsubscribe
        "unsubscribe_title": "Désabonnement",
        "unsubscribe_done": "Vous êtes désabonné·e",
        "unsubscribe_done_text": "L’adresse {email} ne recevra plus {title}.",
        "unsubscribe_heading": "Se désabonner de {title}",
        "unsubscribe_question": (
            "Confirmez-vous que l’adresse {email} ne doit plus recevoir {title}\u202f?"
        ),
        "unsubscribe_button": "Me désabonner",
        # preferences
        "preferences_title": "Préférences",
        "preferences_heading": "Vos préférences",
        "preferences_for": "Pour l’adresse {email}.",
        "preferences_saved": "Vos préférences sont enregistrées",
        "preferences_saved_note": "\u00a0: elles valent dès la prochaine édition.",
        "preferences_topics": (
            "Les rubriques qui vous intéressent en premier (aucune\u00a0: l’édition de tous)"
        ),
        "preferences_frequency": "Fréquence",
        "frequency_daily": "Chaque jour",
        "frequency_weekly": "Une fois par semaine, le",
        "preferences_pause": "Pause",
        "pause_until": "Reprendre l’envoi le",
        "pause_help": "Laissez vide pour recevoir sans interruption.",
        "paused_now": "En pause\u00a0: vous recevrez de nouveau la lettre à partir du {date}.",
        "preferences_format": "Format",
        "format_html": "HTML (mise en page, images)",
        "format_text": "Texte seul",
        "preferences_timezone": "Fuseau horaire de livraison",
        "timezone_default": "Celui de la lettre ({zone})",
        "preferences_save": "Enregistrer",
        "preferences_unsubscribe": "Ne plus rien recevoir",
        "preferences_not_active": (
            "Cette adresse ne reçoit pas {title} en ce moment\u00a0: vos préférences valent si "
            "vous vous abonnez à nouveau."
        ),
        "subscribe_again": "S’abonner à nouveau",
        # preferences errors
        "bad_frequency": (
            "Choisissez «\u202fchaque jour\u202f» ou «\u202fune fois par semaine\u202f»."
        ),
        "bad_weekday": "Choisissez un jour de la semaine.",
        "bad_date": "La date de fin de pause doit s’écrire AAAA-MM-JJ.",
        "date_past": "La date de fin de pause doit être après aujourd’hui.",
        "date_far": "Une pause dure au plus un an.",
        "bad_format": "Choisissez le format HTML ou texte.",
        "bad_topic": "Ce thème n’existe pas\u00a0: choisissez parmi ceux de la liste.",
        "bad_timezone": "Ce fuseau horaire est inconnu\u00a0: choisissez-en un dans la liste.",
        "bad_repeated": "Le formulaire contient deux fois le même champ.",
        # /api/subscribe errors
        "json_object": "Attendu : un objet JSON.",
        "json_email": "Attendu : {\"email\": \"...\"}.",
        "json_topics": "« topics » doit être une liste de thèmes.",
    },
    "en": {
        "nothing_done": "Nothing happens until you click this button.",
        "nothing_changed": (
            "Nothing was changed. If you think this is a mistake, use the link in the latest "
            "email you received."
        ),
        "error": "Something went wrong.",
        "link_invalid": "This link is not valid.",
        "link_expired": "This link has expired.",
        "confirm_expired": "This confirmation link has expired: please subscribe again.",
        "subscriber_gone": "This subscription no longer exists.",
        "edition_missing": "This edition does not exist.",
        "edition_not_yet": "This edition does not exist (yet).",
        "not_found": "This page does not exist.",
        "method_not_allowed": "Method not allowed.",
        "too_large": "Request too large.",
        "send_the_form": "Please send the page's form.",
        "bad_form": "This form could not be read.",
        "too_many": "Too many requests: please try again in an hour.",
        "email_invalid": "This email address is not valid.",
        "signup_answer": (
            "If this address can receive our newsletter, a confirmation email has just been "
            "sent to it."
        ),
        "archive_title": "Archive",
        "archive_heading": "Editions of {title}",
        "archive_empty": "No edition yet.",
        "confirm_title": "Confirmation",
        "confirm_done": "Subscription confirmed",
        "confirm_done_text": "You will receive {title} from the next edition on.",
        "confirm_heading": "Confirm your subscription",
        "confirm_button": "Confirm my subscription",
        "subscribe_title": "Subscribe",
        "subscribe_check": "Check your inbox",
        "subscribe_check_note": (
            "Open the link in that email to confirm: without confirmation you will receive nothing."
        ),
        "subscribe_heading": "Get {title}",
        "subscribe_tagline": "The news that matters, read in five minutes, every morning.",
        "subscribe_email": "Email address",
        "subscribe_name": "First name (optional)",
        "subscribe_topics": "Sections to read first (optional):",
        "subscribe_button": "Subscribe",
        "unsubscribe_title": "Unsubscribe",
        "unsubscribe_done": "You are unsubscribed",
        "unsubscribe_done_text": "The address {email} will no longer receive {title}.",
        "unsubscribe_heading": "Unsubscribe from {title}",
        "unsubscribe_question": "Do you confirm that {email} should no longer receive {title}?",
        "unsubscribe_button": "Unsubscribe me",
        "preferences_title": "Preferences",
        "preferences_heading": "Your preferences",
        "preferences_for": "For the address {email}.",
        "preferences_saved": "Your preferences are saved",
        "preferences_saved_note": ": they apply from the next edition.",
        "preferences_topics": "The sections you want first (none: everyone's edition)",
        "preferences_frequency": "Frequency",
        "frequency_daily": "Every day",
        "frequency_weekly": "Once a week, on",
        "preferences_pause": "Pause",
        "pause_until": "Resume sending on",
        "pause_help": "Leave empty to receive without a break.",
        "paused_now": "Paused: you will receive the newsletter again from {date}.",
        "preferences_format": "Format",
        "format_html": "HTML (layout, images)",
        "format_text": "Plain text",
        "preferences_timezone": "Delivery time zone",
        "timezone_default": "The newsletter's ({zone})",
        "preferences_save": "Save",
        "preferences_unsubscribe": "Stop receiving anything",
        "preferences_not_active": (
            "This address does not receive {title} at the moment: your preferences apply if "
            "you subscribe again."
        ),
        "subscribe_again": "Subscribe again",
        "bad_frequency": "Choose “every day” or “once a week”.",
        "bad_weekday": "Choose a day of the week.",
        "bad_date": "Write the end of the pause as YYYY-MM-DD.",
        "date_past": "The end of the pause must be after today.",
        "date_far": "A pause lasts a year at most.",
        "bad_format": "Choose the HTML or the text format.",
        "bad_topic": "This topic does not exist: choose from the list.",
        "bad_timezone": "This time zone is unknown: choose one from the list.",
        "bad_repeated": "The form holds the same field twice.",
        "json_object": "Expected a JSON object.",
        "json_email": "Expected {\"email\": \"...\"}.",
        "json_topics": "“topics” must be a list of topics.",
    },
}


def page_texts(language: str) -> dict[str, str]:
    """The pages' words in ``language`` (a BCP 47 tag; anything but English gives French)."""
    return PAGES[language_of(language)]


def message(key: str, language: str) -> str:
    """The words of message ``key`` in ``language``; a text that is not a key is returned as
    it is (an exception raised elsewhere with its own words)."""
    return page_texts(language).get(key, key)
