"""Content categories: keyword and hashtag tables, and the evidence scoring over them.

Pure Python (no Django), shared by the rule-based engine, which picks the best-scoring
category, and the transformer engine, which combines the scores with zero-shot scores and
uses the ranking for ``AI_CATEGORY_TOP_K``.

Scoring (``category_evidence``): the caption is lower-cased and stripped of accents; its
words (outside hashtags) are matched against each category's keywords on word boundaries,
with light stemming (a trailing "s"/"es" is dropped, "ies" -> "y"), and multi-word
keywords are matched as phrases. Each distinct keyword found counts its weight (1 unless
written ``word:0.5`` in the table) once ("puppy" and "puppies" are one keyword). Hashtags
count double: a hashtag equal to a keyword (or its stem) scores 2 x weight; a hashtag that
merely contains a keyword of 4 or more letters (``#foodporn`` contains "food") scores
1 x weight. Categories without a table (any name not in ``KEYWORDS``) score 0 and so never
win by keywords.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable, Sequence
from functools import lru_cache

DEFAULT_CATEGORY = "Lifestyle"
HASHTAG_EXACT_WEIGHT = 2.0
HASHTAG_CONTAINS_WEIGHT = 1.0
MIN_CONTAINED_KEYWORD = 4

# English first, then common Spanish, French, Portuguese, German and Italian terms.
# Multi-word keywords are written with "_"; "word:0.5" gives a keyword a weight.
KEYWORDS: dict[str, str] = {
    "Fashion": """fashion outfit ootd style stylish dress dresses jeans shoe sneaker sneakers heels boots handbag
        streetwear wardrobe designer runway lookbook vintage_clothing jacket coat shirt tshirt skirt blazer
        accessories jewelry jewellery necklace earrings menswear womenswear couture model:0.5 fashionista
        clothing apparel tailoring denim haute_couture fashion_week
        moda vestido ropa zapatos estilo tendencia mode:0.5 tenue robe vetement chaussures look:0.5
        roupa vestuario sapatos estilo kleid kleidung schuhe outfit abito vestito scarpe stile tendenze""",
    "Beauty": """beauty makeup make_up skincare skin_care cosmetics lipstick mascara eyeliner foundation:0.5
        concealer blush contour highlighter nails nail_art manicure pedicure hairstyle haircut hair:0.5
        hairstylist salon perfume fragrance serum moisturizer moisturiser glow lashes brows eyeshadow
        spa facial sunscreen beauty_routine mua
        belleza maquillaje piel cuidado_de_la_piel perfume beaute maquillage soin_de_la_peau ongles
        parfum beleza maquiagem pele unhas cabelo schonheit hautpflege nagel parfum bellezza trucco
        pelle unghie capelli""",
    "Fitness": """fitness gym workout workouts training:0.5 exercise crossfit bodybuilding weightlifting
        squat squats deadlift bench_press cardio hiit pilates yoga abs muscle muscles gains protein
        personal_trainer trainer treadmill run:0.5 running runner marathon jogging stretching
        fitfam fitspo calisthenics reps sets:0.5 push_ups pushups plank burpees
        gimnasio entrenamiento ejercicio entrenar musculacion salle_de_sport musculation entrainement
        academia treino exercicio malhar fitnessstudio krafttraining ubung palestra allenamento esercizio""",
    "Food": """food foodie recipe recipes cooking cook chef kitchen:0.5 restaurant restaurants dinner lunch
        breakfast brunch dessert desserts cake cakes pizza pasta burger burgers sushi tacos salad
        bakery baking bread coffee cafe caffe tea wine cocktail cocktails delicious yummy tasty meal meals
        snack vegan vegetarian foodporn homemade dish dishes cuisine chocolate cheese steak bbq
        grill grilled soup noodles ramen icecream ice_cream eat eating foodstagram
        comida receta recetas cocina cocinar restaurante delicioso rico postre almuerzo cena desayuno rico:0.5
        nourriture recette cuisine restaurant delicieux diner dejeuner gateau boulangerie
        comida receita receitas cozinha restaurante delicia gostoso sobremesa almoco jantar
        essen rezept kochen lecker fruhstuck mittagessen abendessen kuchen cibo ricetta ricette
        cucina ristorante delizioso buonissimo pranzo cena colazione dolce""",
    "Travel": """travel traveling travelling traveler traveller trip trips vacation holiday holidays journey
        wanderlust adventure:0.5 explore exploring tourism tourist destination flight flights airport
        passport hotel hotels resort beach beaches island islands backpacking roadtrip road_trip
        sightseeing cruise abroad itinerary getaway travelgram instatravel mountains hiking
        viaje viajar viajes vacaciones turismo playa hotel aventura voyage voyager vacances plage
        tourisme viagem viajar ferias praia turismo reise reisen urlaub strand viaggio viaggiare
        vacanze spiaggia turismo""",
    "Tech": """tech technology gadget gadgets smartphone iphone android laptop computer pc software
        hardware app apps coding code:0.5 programming programmer developer startup:0.5 chatgpt openai
        artificial_intelligence machine_learning robot robotics data:0.5 cloud cybersecurity internet
        apple:0.5 google microsoft samsung tesla:0.5 chip chips electronics innovation science
        scientific engineering engineer physics nasa space:0.5 crypto blockchain bitcoin
        tecnologia tecnologico ciencia programacion technologie science informatique tecnologia
        ciencia technik wissenschaft digital tecnologia scienza informatica""",
    "Gaming": """gaming gamer gamers videogame videogames video_game video_games game:0.5 games:0.5 esports
        xbox playstation ps4 ps5 nintendo switch:0.5 steam twitch streamer fortnite minecraft
        pokemon zelda mario callofduty call_of_duty league_of_legends valorant overwatch gta
        fifa:0.5 rpg mmo console consoles speedrun dlc gameplay level_up
        videojuego videojuegos jugador jeu_video jeux_video joueur jogo:0.5 jogos:0.5 videogame
        videospiel videospiele spieler videogioco videogiochi""",
    "Music": """music musician song songs singer singing sing album albums concert concerts band bands
        guitar piano drums drummer bass:0.5 rapper rap hiphop hip_hop dj playlist spotify lyrics
        tour:0.5 gig festival:0.5 studio:0.5 track:0.5 single:0.5 record:0.5 orchestra jazz rock
        pop:0.5 edm melody beat:0.5 producer:0.5 live_music newmusic soundcloud vinyl choir
        musica cancion cantante concierto banda guitarra musique chanson chanteur concert
        musica cancao cantor musik sanger konzert musica canzone cantante concerto""",
    "Art": """art artist artists artwork painting paintings painter drawing draw sketch sketchbook
        illustration illustrator sculpture gallery exhibition museum canvas watercolor watercolour
        acrylic oil_painting mural graffiti street_art digital_art contemporary_art craft crafts
        handmade calligraphy ceramics pottery design:0.5 creative creativity poetry poem poet
        theatre theater ballet dance:0.5 culture:0.5 literature novel
        arte artista pintura dibujo ilustracion exposicion museo artiste peinture dessin exposition
        musee arte artista pintura desenho exposicao kunst kunstler malerei zeichnung ausstellung
        arte artista pittura disegno mostra""",
    "Photography": """photography photographer photo photos photoshoot photo_shoot camera cameras lens
        portrait portraits landscape_photography shot:0.5 shoot:0.5 canon nikon sony:0.5 fujifilm
        dslr mirrorless lightroom photoshop editing:0.5 exposure aperture golden_hour
        picoftheday photooftheday instaphoto streetphotography film_photography
        fotografia fotografo foto fotos camara photographie photographe appareil_photo
        fotografie fotograf kamera fotografia fotografo fotocamera scatto""",
    "Lifestyle": """lifestyle life:0.5 daily everyday routine morning_routine vibes weekend selfie:0.5 mood
        inspiration motivation:0.5 happiness goals blessed grateful gratitude selfcare self_care
        mindfulness wellbeing minimalism diary day_in_my_life relationship:0.5 friends:0.5 love:0.5
        estilo_de_vida vida rutina vie quotidien routine vida rotina leben alltag vita quotidiano""",
    "Parenting": """parenting parent parents mom moms mum mommy mother motherhood dad dads daddy father
        fatherhood baby babies toddler toddlers kid kids child children newborn pregnancy pregnant
        maternity family:0.5 daughter breastfeeding homeschool momlife dadlife
        bebe:0.5 hijos hijo hija madre padre maternidad familia maman papa:0.5 enfant enfants
        maternite mae pai filho filha filhos maternidade mutter vater kinder baby eltern mamma
        papa:0.5 bambino bambini maternita""",
    "Business": """business entrepreneur entrepreneurs entrepreneurship startup startups company companies
        ceo founder marketing sales brand:0.5 branding finance investing investment investor
        investors money:0.5 stock stocks market:0.5 economy economic revenue profit leadership
        management career job:0.5 jobs hiring office:0.5 meeting:0.5 networking ecommerce
        smallbusiness small_business side_hustle hustle:0.5 b2b linkedin
        negocio negocios empresa emprendedor emprendimiento marketing ventas entreprise
        entrepreneur affaires negocio negocios empresa empreendedor empreendedorismo vendas
        unternehmen geschaft grunder wirtschaft azienda impresa imprenditore affari""",
    "Education": """education learning learn study studying student students school schools teacher
        teachers teaching university college campus class:0.5 classes lecture course courses
        tutorial lesson lessons homework exam exams degree graduation graduate knowledge
        research:0.5 book:0.5 books reading:0.5 science:0.5 history:0.5 math maths language:0.5
        educacion aprender estudiar estudiante escuela profesor universidad clase education
        apprendre etudier etudiant ecole professeur universite educacao aprender estudar
        estudante escola professor universidade bildung lernen studieren student schule lehrer
        universitat istruzione imparare studiare studente scuola insegnante universita""",
    "Sports": """sports sport football soccer basketball baseball tennis golf hockey rugby cricket
        volleyball boxing mma ufc wrestling f1 formula1 racing:0.5 athlete athletes team:0.5
        match:0.5 league championship champions tournament playoffs season:0.5 coach:0.5 goal:0.5
        goals:0.5 score:0.5 win:0.5 nba nfl mlb nhl fifa premier_league world_cup olympics
        stadium quarterback touchdown player:0.5 players:0.5 playoff final:0.3 semifinal halftime
        referee striker pitcher inning homerun home_run dunk slam_dunk grand_slam free_kick penalty:0.5
        transfer:0.3 fixture laliga la_liga serie_a bundesliga champions_league ncaa wnba mls pga atp wta
        superbowl super_bowl world_series stanley_cup nascar motogp lakers celtics warriors knicks bulls
        yankees dodgers red_sox cubs mets packers cowboys patriots steelers eagles:0.5 chiefs 49ers
        arsenal chelsea liverpool man_united manchester_united man_city real_madrid barca juventus
        psg bayern messi ronaldo lebron neymar mbappe
        deporte deportes futbol baloncesto partido:0.5 equipo campeon sport football match:0.5 equipe
        esporte esportes futebol jogo:0.5 sport fussball mannschaft spiel:0.5 sport
        calcio partita squadra""",
    "Automotive": """car cars auto automotive automobile vehicle vehicles truck trucks motorcycle motorbike
        bike:0.5 engine:0.5 horsepower supercar supercars sportscar racing:0.5 drift tuning
        porsche ferrari lamborghini bmw mercedes audi toyota honda ford tesla:0.5 jeep
        carsofinstagram carporn dealership test_drive electric_vehicle
        coche coches carro carros voiture voitures moto carro carros automovel auto autos
        fahrzeug motorrad macchina auto automobile""",
    "Pets": """pet pets dog dogs puppy puppies cat cats kitten kittens doggo pupper kitty vet veterinarian
        adopt adoption rescue:0.5 shelter:0.5 paw paws hamster rabbit bunny parrot fish:0.3
        aquarium horse horses petsofinstagram dogsofinstagram catsofinstagram
        perro perros gato gatos mascota mascotas chien chiens chiot
        cachorro cachorros gato gatos hund hunde katze katzen haustier cane:0.5 cani gatto gatti
        cucciolo""",
    "Health": """health healthy wellness nutrition diet dietitian nutritionist doctor doctors nurse
        hospital medicine medical mental_health therapy therapist anxiety depression sleep
        disease cancer diabetes vaccine covid clinic healthcare immune vitamins weightloss
        weight_loss healthy_eating meditation
        salud saludable nutricion medico hospital medicina sante sain nutrition medecin hopital
        saude saudavel nutricao medico hospital gesundheit gesund ernahrung arzt krankenhaus
        salute sano nutrizione medico ospedale""",
    "Entertainment": """entertainment movie movies film films cinema tv television series show:0.5 netflix
        hbo disney:0.5 marvel actor actress actors celebrity celebrities hollywood bollywood
        comedy comedian funny:0.5 meme memes trailer episode season_finale premiere oscars
        emmys red_carpet award:0.5 awards anime podcast youtube:0.5 youtuber vlog influencer:0.5
        episode episodes sitcom drama:0.5 documentary binge binge_watch watching:0.5 watched:0.5
        tv_show tvshow reality_show showbiz superstar star:0.3 stars:0.3 fans:0.5 fandom kpop
        broadway comic comics superhero box_office blockbuster screenplay director:0.5 premiere
        kardashian kardashians beyonce taylor_swift rihanna bts hbo_max prime_video hulu
        pelicula peliculas cine serie series actor actriz famoso film cinema serie acteur actrice
        filme filmes cinema novela ator atriz film kino serie schauspieler film cinema attore
        attrice""",
    "Home & Decor": """home:0.5 decor homedecor home_decor interior interiors interior_design interiordesign
        furniture living_room bedroom kitchen:0.5 bathroom renovation diy:0.5 garden gardening
        plants:0.5 houseplants apartment house:0.5 sofa couch rug lamp shelf shelves decoration
        decorating architecture cozy candle candles homemaker
        decoracion hogar casa:0.5 muebles jardin decoration maison interieur meubles jardin
        decoracao casa:0.5 moveis jardim einrichtung wohnung mobel garten deko arredamento
        casa:0.5 mobili giardino""",
}

WORD_RE = re.compile(r"\w+")
HASHTAG_RE = re.compile(r"(?<![\w#])#(\w+)")


def normalise(text: str) -> str:
    """Lower-case and strip accents (so "café" and "cafe" match)."""
    decomposed = unicodedata.normalize("NFKD", text.lower())
    return "".join(ch for ch in decomposed if not unicodedata.combining(ch))


def stems(word: str) -> set[str]:
    """The word and its light-stemmed singular forms."""
    forms = {word}
    if len(word) > 4 and word.endswith("ies"):
        forms.add(word[:-3] + "y")
    if len(word) > 3 and word.endswith("es"):
        forms.add(word[:-2])
    if len(word) > 3 and word.endswith("s") and not word.endswith("ss"):
        forms.add(word[:-1])
    return forms


def _form_key(forms: Iterable[str]) -> str:
    """The shortest of a word's forms, ties broken alphabetically (never by set order)."""
    return min(forms, key=lambda form: (len(form), form))


@lru_cache(maxsize=1)
def _contained_index() -> tuple[dict[str, dict[str, float]], int]:
    """Keywords of MIN_CONTAINED_KEYWORD+ letters -> {category: weight}, and the longest."""
    index: dict[str, dict[str, float]] = {}
    for category, (words, _) in _tables().items():
        for term, weight in words.items():
            if len(term) >= MIN_CONTAINED_KEYWORD:
                index.setdefault(term, {})[category] = weight
    return index, max((len(term) for term in index), default=0)


def _contained_keywords(tag: str) -> dict[str, float]:
    """Per category, the largest weight of a keyword found inside ``tag``."""
    index, longest = _contained_index()
    found: dict[str, float] = {}
    for start in range(len(tag)):
        for end in range(start + MIN_CONTAINED_KEYWORD, min(len(tag), start + longest) + 1):
            for category, weight in index.get(tag[start:end], {}).items():
                found[category] = max(found.get(category, 0.0), weight)
    return found


@lru_cache(maxsize=1)
def _tables() -> dict[str, tuple[dict[str, float], dict[str, float]]]:
    """Per category: (single-word keyword -> weight, phrase -> weight), normalised."""
    tables: dict[str, tuple[dict[str, float], dict[str, float]]] = {}
    for category, spec in KEYWORDS.items():
        words: dict[str, float] = {}
        phrases: dict[str, float] = {}
        for item in spec.split():
            term, _, weight = item.partition(":")
            term = normalise(term)
            value = float(weight) if weight else 1.0
            if "_" in term:
                phrases[term.replace("_", " ")] = value
            else:
                words[term] = max(value, words.get(term, 0.0))
        tables[category] = (words, phrases)
    return tables


def category_evidence(
    caption: str,
    hashtags: Iterable[str] = (),
    categories: Sequence[str] | None = None,
) -> dict[str, float]:
    """Keyword and hashtag evidence per category, highest first (ties in category order).

    ``hashtags`` (without "#") are added to the ones found in the caption. Every category
    of ``categories`` (default: all with a keyword table) appears in the result, with 0.0
    when nothing matched.
    """
    names = list(categories) if categories is not None else list(KEYWORDS)
    text = normalise(caption or "")
    tags = {normalise(tag.lstrip("#")) for tag in hashtags if tag and tag.strip("#")}
    tags.update(HASHTAG_RE.findall(text))
    tags.discard("")
    body = HASHTAG_RE.sub(" ", text)
    words_in_body = WORD_RE.findall(body)
    token_forms = [stems(word) for word in sorted(set(words_in_body))]
    padded_body = " " + " ".join(words_in_body) + " "
    tag_forms = {tag: stems(tag) for tag in tags}
    tag_contained = {tag: _contained_keywords(tag) for tag in tags}

    tables = _tables()
    scores: dict[str, float] = {}
    for name in names:
        if name not in tables:
            scores[name] = 0.0
            continue
        words, phrases = tables[name]
        matched: dict[str, float] = {}
        # One entry per keyword, keyed by the shortest keyword a word's forms hit, so that
        # "puppy" and "puppies" are one keyword match, not two. Never by set order (it
        # changes with each process's hash seed): ties are broken alphabetically.
        for forms in token_forms:
            hits = [f for f in forms if f in words]
            if hits:
                key = _form_key(hits)
                matched[key] = max(matched.get(key, 0.0), *(words[f] for f in hits))
        for phrase, weight in phrases.items():
            if f" {phrase} " in padded_body:
                matched[phrase] = max(matched.get(phrase, 0.0), weight)
        for forms in tag_forms.values():
            exact = [words[f] for f in forms if f in words] + [
                phrases[p] for p in phrases if p.replace(" ", "") in forms
            ]
            if exact:
                key = "#" + _form_key(forms)
                matched[key] = max(matched.get(key, 0.0), HASHTAG_EXACT_WEIGHT * max(exact))
        for tag in tags:
            if any(f in words for f in tag_forms[tag]):
                continue
            contained = tag_contained[tag].get(name)
            if contained:
                key = "#" + tag
                matched[key] = max(matched.get(key, 0.0), HASHTAG_CONTAINS_WEIGHT * contained)
        scores[name] = round(sum(matched.values()), 4)
    order = {name: i for i, name in enumerate(names)}
    return dict(sorted(scores.items(), key=lambda item: (-item[1], order[item[0]])))


def pick_category(
    evidence: dict[str, float], categories: Sequence[str], default: str = DEFAULT_CATEGORY
) -> tuple[str, float, bool]:
    """(category, confidence 0..1, from_evidence) from ``category_evidence``'s ranking.

    Confidence = the winner's share of all evidence x (1 - 0.5^score): one plain keyword
    gives at most 0.5, a matching hashtag 0.75. Without evidence: ``default`` (or the first
    category when the default is not configured) at 0.1.
    """
    total = sum(evidence.values())
    if total <= 0:
        fallback = default if default in categories else (categories[0] if categories else default)
        return fallback, 0.1, False
    best, score = next(iter(evidence.items()))
    confidence = (score / total) * (1 - 0.5**score)
    return best, round(min(confidence, 0.95), 4), True
