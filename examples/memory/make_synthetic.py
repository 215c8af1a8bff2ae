# Writes synthetic-6000.json: a synthetic LoCoMo-format dataset for speed only (not quality): 10
# conversations x 20 sessions x 30 turns = 6,000 turns, 20 questions each.
import json, random
random.seed(7)
names = ["Maya","Tom","Ravi","Ines","Lena","Omar","Sofia","Jonas","Aiko","Pablo","Zoe","Karl","Nadia","Luis","Eva","Hugo","Mira","Finn","Leah","Sami"]
things = ["sourdough","bicycle","guitar","garden","novel","marathon","camera","kayak","piano","painting","puppy","laptop","tent","violin","telescope","quilt","drone","cookbook","chessboard","surfboard"]
places = ["Lisbon","Kiel","Oslo","Porto","Lyon","Kyoto","Austin","Cork","Gdansk","Bergen","Quebec","Turin","Seville","Hobart","Tartu"]
verbs = ["bought","sold","fixed","painted","borrowed","lost","found","built","gifted","tried"]
months = ["January","February","March","April","May","June","July","August","September","October","November","December"]
samples = []
for s in range(10):
    a, b = random.sample(names, 2)
    conv = {"speaker_a": a, "speaker_b": b}
    qa = []
    for n in range(1, 21):
        conv[f"session_{n}_date_time"] = f"{random.randint(1,12)}:{random.randint(10,59)} {'am' if random.random()<0.5 else 'pm'} on {random.randint(1,28)} {months[(n-1)%12]}, {2023 + (n-1)//12}"
        turns = []
        for t in range(1, 31):
            speaker = a if t % 2 else b
            thing, place, verb = random.choice(things), random.choice(places), random.choice(verbs)
            text = f"Last week I {verb} a {thing} in {place}, and it was {random.choice(['great','odd','tiring','fun','costly'])}."
            turns.append({"speaker": speaker, "dia_id": f"D{n}:{t}", "text": text})
            if random.random() < 20 / 600:
                qa.append({"question": f"Where did {speaker} get the {thing} that was {verb}?", "answer": place, "evidence": [f"D{n}:{t}"], "category": 1})
        conv[f"session_{n}"] = turns
    samples.append({"sample_id": f"synthetic-{s}", "conversation": conv, "qa": qa})
json.dump(samples, open("synthetic-6000.json", "w"))
print(sum(len(x["qa"]) for x in samples), "questions")
