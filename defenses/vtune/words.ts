/**
 * The project's own list of ordinary English words (written for vtune-bench, not copied from any published
 * list). The `wordlist` and `keyed` generators draw signatures and triggers uniformly from it, so their
 * generator-mode bound is exact: q = c·V^-L (see `prefixChain`). Plain lowercase ASCII only, so every
 * tokenizer (including the stories260K byte fallback) handles it.
 */

const RAW = `
apple apricot banana berry bread butter cake candy carrot cheese cherry chicken chili cocoa coffee cookie corn
cream cucumber date dinner donut egg fig flour fruit garlic ginger grape gravy honey jam juice kale lemon lentil
lettuce lime lunch mango melon milk mint muffin mushroom noodle nut oat olive onion orange pancake pasta pea peach
peanut pear pepper pickle pie pineapple pizza plum popcorn potato pudding pumpkin radish raisin rice salad salmon
salt sandwich sauce sausage soup spinach steak stew sugar syrup taco tea toast tomato tuna turkey vanilla waffle
walnut water yogurt almond bagel barley basil bean beef biscuit broth brownie cabbage celery cereal chowder
cinnamon clam coconut cod crab cracker cupcake custard dough dumpling eggplant fudge granola ham herb lasagna
lobster macaroni maple meatball muesli mustard nutmeg omelet oyster paprika parsley pastry pecan pesto pretzel
prune quiche ravioli relish rhubarb roll rye saffron scone seaweed sherbet shrimp sorbet soy squash strawberry
sushi toffee tofu truffle turnip vinegar wheat yam zucchini
ant bat bear beaver bee beetle bird bison buffalo bull butterfly camel canary cat cattle cheetah chick
chipmunk cobra cow coyote crane crow cub deer dog dolphin donkey dove dragonfly duck eagle eel elephant elk falcon
ferret finch firefly fish flamingo fox frog gazelle gecko giraffe goat goose gorilla grasshopper hamster hare hawk
hedgehog hen heron hippo horse hound hummingbird jaguar jellyfish kangaroo kitten koala ladybug lamb lark leopard
lion lizard llama lobsters magpie mole monkey moose mosquito moth mouse mule octopus otter owl ox panda panther
parrot peacock pelican penguin pig pigeon pony poodle puffin puppy rabbit raccoon ram rat raven reindeer rhino
robin rooster seal shark sheep sloth slug snail snake sparrow spider squid squirrel stork swan tiger toad tortoise
trout turtle walrus wasp weasel whale wolf wombat woodpecker worm yak zebra badger buzzard caterpillar cricket
dingo emu gopher iguana lynx mink newt ostrich oriole pheasant porcupine quail salamander skunk starling termite
vulture wren
acorn bamboo birch blossom bloom branch bud bush cactus cedar clover daisy elm fern flower forest garden grass
hedge ivy jungle leaf lily lotus maple meadow moss oak orchid palm petal pine pinecone poppy rose root sapling seed
shrub stem sunflower thorn tree tulip twig vine violet willow weed lavender marigold magnolia hazel holly heather
juniper laurel spruce sequoia cypress dandelion
anchor arrow axe bag ball balloon basket bat bell belt bench blanket boat bolt book boot bottle bowl box bracelet
brick broom brush bucket button cabinet camera candle cap card carpet cart chain chair chalk clock cloth coat comb
compass couch crayon crown cup curtain cushion desk dish doll door drawer drum envelope eraser fan feather fence
flag flashlight fork frame glass globe glove glue hammer hanger hat helmet hook hose jar jacket kettle key kite
ladder lamp lantern lock magnet map marble mask mat mirror mitten mop mug nail napkin necklace needle net notebook
pail paint pan pen pencil pillow pin pipe plate pocket pot purse puzzle quilt radio rake ribbon ring rope rug ruler
sack saddle saw scarf scissors screw shelf shield shirt shoe shovel sink skirt sled soap sock sofa spoon stamp
stool string suitcase sweater sword table tape teapot telescope tent thread ticket tie toothbrush towel toy tray
trumpet umbrella vase wagon wallet watch wheel whistle window wire wrench zipper backpack badge banner barrel
bead blender boomerang bucketful calendar canoe chisel cradle doorbell easel faucet funnel goggles harp jigsaw
keyboard ladle locket mailbox mattress microscope paddle parachute pedal piano pliers pitcher razor sandal sponge
stapler teacup thermos thimble trowel tricycle violin whisk
actor artist astronaut athlete author baby baker banker barber boy bride brother builder butcher captain carpenter
chef child clown coach cook cousin dancer daughter dentist doctor driver farmer father firefighter friend gardener
girl grandfather grandmother guard guest hero host hunter judge king knight lady lawyer leader librarian magician
mayor mechanic merchant miner mother musician neighbor nurse painter parent pilot pirate plumber poet police
president prince princess professor queen sailor scientist shepherd singer sister soldier son student surgeon
tailor teacher twin uncle aunt visitor waiter warrior wizard worker writer nephew niece citizen stranger
traveler villager scholar explorer inventor jeweler potter weaver
airport alley apartment attic avenue bakery bank barn basement bathroom beach bedroom bridge building cabin
canal castle cathedral cave cellar chapel church city classroom cliff closet college cottage court desert dock
factory farm field fountain garage gate gym hall harbor highway hill hospital hotel house hut island kitchen lake
library lighthouse market meadows mill mountain museum ocean office orchard palace park path pier playground pond
porch prison pool restaurant river road roof room school shop shore sidewalk square stable stadium station street
studio subway supermarket swamp temple theater tower town tunnel valley village volcano warehouse well yard zoo
bay beachfront canyon coast creek delta dune glacier gulf lagoon marsh oasis peninsula plateau prairie ravine reef
summit tundra waterfall
air ash blizzard breeze cloud comet dawn dew dust earth eclipse ember fire flame fog frost galaxy gust hail haze
heat ice lightning mist moon mud night planet rain rainbow sand shadow sky smoke snow spark star steam stone storm
sun sunrise sunset thunder tide tornado twilight universe wave wind winter summer spring autumn season weather
morning evening noon midnight afternoon today tomorrow yesterday week month year decade century moment hour minute
second calendar holiday birthday weekend
airplane bicycle bus car helicopter jeep motorcycle rocket scooter ship submarine taxi tractor train truck van
yacht ferry raft sailboat skateboard sleigh spaceship tram trolley wheelbarrow
arm back beard belly blood body bone brain cheek chest chin ear elbow eye eyebrow face finger foot forehead hair
hand head heart heel hip jaw knee leg lip lung mouth muscle neck nose palm shoulder skin skull spine stomach thumb
toe tongue tooth waist wrist ankle
account advice agreement amount answer argument army art attention balance bargain battle beauty beginning
behavior belief birth blame border bottom brand breath business calm care cause chance change charge choice
circle class comfort company contest control copy cost courage crowd culture cure damage danger deal debt decision
degree design desire detail difference dinnertime direction discovery distance doubt dream duty edge education
effect effort energy engine error event example exchange experience fact failure faith fame family fashion fault
fear feeling fight figure flight force fortune freedom friendship fun future game gift glory goal gold grace
growth guess habit harmony health help history hobby honor hope humor idea image impact income industry
information interest invention issue job joke journey joy justice kindness knowledge language laugh law lesson
letter level life limit line list loss love luck machine magic manner mark match matter meal measure memory
message method middle mind minute mistake model money mood motion music mystery name nature news noise note
number object offer opinion order owner pace pain pair paper party passion past pattern peace people period
permission person picture piece place plan pleasure plenty poem point power practice praise prayer price pride
problem process product progress promise proof purpose quality question race range rate reason record relief
report respect rest result reward rhythm risk rule safety sale sample scale scene science score secret sense
service shape share shift sign silence size skill sleep smile sound source space speech speed spirit sport stage
start state step story strength structure style success supply surprise system talent task taste team test
theory thing thought time title topic touch trade tradition trick trip trouble trust truth turn type unit value
victory view voice vote wealth weight whisper wish wonder word work world worth youth zone
accept add admire agree allow answer appear argue arrive ask bake balance bark bathe beg begin believe belong
bend bite blink blow boil borrow bounce bow breathe bring brush build burn bury buy call camp carry catch cause
chase cheer chew choose clap clean climb close collect comb come compare complain cook copy count crawl cross cry
cut dance dare decide deliver describe dig dive divide draw dream dress drink drive drop dry earn eat enjoy enter
escape explain explore fail fall feed feel fetch fight fill find finish fix float flow fly fold follow forget
forgive freeze gather give glow grab greet grin grow guess guide hang happen hate hear help hide hike hold hop
hope hug hum hunt hurry imagine invent invite join juggle jump keep kick kiss knit knock know laugh lead lean learn
leave lend lift like listen live look lose love make march marry measure meet melt mend mix move nap nod notice
obey offer open order own pack paddle paint pass pause pay peek pick plant play point polish pour pray prefer
prepare press pretend print promise protect pull pump punch push race rain reach read relax remember repair repeat
reply rescue rest return ride ring rise roar roast rock roll row rub run rush sail save say scare scratch scream
search see sell send serve sew shake share shine shiver shop shout show shrug sing sink sip sit skate ski skip
sleep slide smell smile sneeze snore solve sort speak spell spend spill spin splash spray squeeze stare start
stay steal step stir stop stretch study swim swing talk taste teach tease tell thank think throw tickle tie touch
trace trade train travel trust try tug turn twist type understand unlock use visit wait wake walk wander want
warn wash watch wave wear weave weep whisper whistle win wink wipe wish wonder work worry wrap write yawn yell zoom
able active afraid alert alive angry ancient anxious awake aware awful bad bald bare basic beautiful best better
big bitter black blank blind blue bold bored bouncy brave brief bright brilliant broad broken brown bumpy busy calm
careful careless cheap cheerful chilly clean clear clever cloudy clumsy cold colorful comfortable common cool
cozy crazy creamy crisp crooked crowded cruel cuddly curious curly cute damp dark dear deep delicate delicious
dirty dizzy dry dull dusty eager early easy elegant empty enormous equal even evil exact excellent excited fair
faithful famous fancy fast fat fierce fine firm flat fluffy foggy fond foolish free fresh friendly frozen full
funny fuzzy gentle giant glad gloomy golden good gorgeous grand gray great greedy green grumpy handsome happy hard
harsh healthy heavy helpful helpless high hollow honest hot huge humble hungry icy ideal idle ill innocent jolly
juicy kind large late lazy light little lively lonely long loose loud lovely low loyal lucky mad magical major
massive mean merry messy mighty mild modern moist narrow nasty naughty near neat nervous new nice noble noisy
normal odd old orange ordinary pale patient perfect petite plain pleasant plump polite poor popular pretty
proud purple quick quiet rapid rare raw ready real red rich right rigid ripe rotten rough round rude sad safe salty
scary secret selfish shaggy sharp shiny short shy silent silly simple sleepy slim slow small smart smooth soft
solid sour spicy splendid spotted square steady steep sticky stiff still stormy straight strange strict strong
stupid sturdy sudden sunny super sweet swift tall tame tasty tender terrible thick thin thirsty tidy tiny tired
tough tricky true ugly uneven unusual upset useful usual vast violent visible warm weak wealthy weary wet white
whole wicked wide wild wise witty wonderful wooden worried wrong yellow young zealous
about above across after again against ahead almost alone along already also always among around away because
before behind below beneath beside between beyond during early either else enough ever every far forward here
however inside instead later maybe nearly never next often once only outside over perhaps quite rather really
seldom since sometimes soon still then there through today together too toward under until usually very while
within without yet
one two three four five six seven eight nine ten eleven twelve thirteen fourteen fifteen sixteen seventeen
eighteen nineteen twenty thirty forty fifty sixty seventy eighty ninety hundred thousand million first third
fourth fifth sixth seventh eighth ninth tenth dozen half double triple single
north south east west left right center corner top side front end
silver copper iron steel tin bronze brass clay glassware granite leather linen lumber marble metal nylon
paperboard plastic porcelain rubber satin silk timber velvet wool cotton denim pearl diamond emerald ruby sapphire
crystal amber jade coral ivory quartz
apron blouse bonnet boots cardigan cloak collar dress gown hood jeans kimono mittens overalls pajamas poncho
raincoat robe sandals shorts slippers sneakers socks suit sweatshirt tights trousers tunic uniform vest
bedtime breakfast chores errand feast festival harvest homework parade picnic recess supper vacation wedding
adventure ballad chapter comic diary fable fairy legend myth novel riddle rhyme saga song tale verse
algebra atom biology chemistry fraction geometry gravity magnetism physics molecule orbit oxygen
carbon nitrogen hydrogen helium
accordion banjo bugle cello clarinet cymbal flute guitar horn lute oboe organ saxophone tambourine trombone tuba
ukulele xylophone
baseball basketball boxing chess cycling darts fishing football golf hockey jogging karate rowing rugby
sailing skating skiing soccer surfing swimming tennis volleyball wrestling yoga
`;

/** The word list, deduplicated, in first-appearance order. */
export const WORDS: readonly string[] = Object.freeze([...new Set(RAW.split(/\s+/).filter((w) => /^[a-z]+$/.test(w)))]);

/**
 * The largest number of distinct words in `words` that are all prefixes of one string (e.g. car, care, cared).
 * A signature of L space-separated words is a prefix of an output only if its first L−1 words equal the
 * output's and its last word is a prefix of the output's L-th word, so at most c such signatures exist and the
 * generator-mode bound for uniform draws is q = c·V^-L (DESIGN.md §3, prefix matching).
 */
export function prefixChain(words: readonly string[]): number {
  const set = new Set(words);
  let best = 0;
  for (const w of set) {
    let c = 0;
    for (let len = 1; len <= w.length; len++) if (set.has(w.slice(0, len))) c++;
    if (c > best) best = c;
  }
  return best;
}
